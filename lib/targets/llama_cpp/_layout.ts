/**
 * C struct layouts of llama.h, described once per release: byte offsets by the C alignment rules
 * (x86-64 System V / AArch64), the Deno FFI struct type for by-value passing, and read/write of a
 * struct held in a byte buffer.
 */

/** Field types that occur in the llama.h structs this binding passes. */
export type CType = "ptr" | "bool" | "i32" | "u32" | "f32" | "f64" | "usize";

/** An ordered list of [name, type] exactly as llama.h declares the struct. */
export type CFields = readonly (readonly [string, CType])[];

/** A laid-out struct. */
export interface CLayout {
  name: string;
  size: number;
  offsets: Record<string, number>;
  types: Record<string, CType>;
  /** The Deno FFI type for passing or returning the struct by value. */
  ffi: Deno.NativeStructType;
  /** Read every field; pointers and size_t as bigint. */
  read(bytes: Uint8Array): Record<string, number | bigint | boolean>;
  /** Write the named fields; others keep their bytes. */
  write(bytes: Uint8Array, values: Record<string, number | bigint | boolean>): void;
}

const SIZE: Record<CType, number> = { ptr: 8, bool: 1, i32: 4, u32: 4, f32: 4, f64: 8, usize: 8 };
const FFI: Record<CType, Deno.NativeType> = {
  ptr: "pointer",
  bool: "bool",
  i32: "i32",
  u32: "u32",
  f32: "f32",
  f64: "f64",
  usize: "usize",
};

/**
 * Lay out a C struct (64-bit targets only).
 *
 * @param name The C struct name, for messages.
 * @param fields The fields in declaration order.
 * @returns The layout.
 * @example
 * ```ts
 * import { defineLayout } from "./_layout.ts";
 * const l = defineLayout("s", [["a", "i32"], ["p", "ptr"], ["b", "bool"]]);
 * if (l.size !== 24 || l.offsets.p !== 8) throw new Error("bad layout");
 * ```
 */
export function defineLayout(name: string, fields: CFields): CLayout {
  const offsets: Record<string, number> = {};
  const types: Record<string, CType> = {};
  let off = 0, align = 1;
  for (const [field, t] of fields) {
    const a = SIZE[t];
    align = Math.max(align, a);
    off = Math.ceil(off / a) * a;
    offsets[field] = off;
    types[field] = t;
    off += a;
  }
  const size = Math.ceil(off / align) * align;
  return {
    name,
    size,
    offsets,
    types,
    ffi: { struct: fields.map(([, t]) => FFI[t]) },
    read(bytes) {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out: Record<string, number | bigint | boolean> = {};
      for (const [f, t] of fields) out[f] = get(v, offsets[f], t);
      return out;
    },
    write(bytes, values) {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (const [f, val] of Object.entries(values)) {
        if (!(f in offsets)) throw new TypeError(`Struct ${name} has no field "${f}"`);
        set(v, offsets[f], types[f], val);
      }
    },
  };
}

function get(v: DataView, o: number, t: CType): number | bigint | boolean {
  switch (t) {
    case "ptr":
    case "usize":
      return v.getBigUint64(o, true);
    case "bool":
      return v.getUint8(o) !== 0;
    case "i32":
      return v.getInt32(o, true);
    case "u32":
      return v.getUint32(o, true);
    case "f32":
      return v.getFloat32(o, true);
    case "f64":
      return v.getFloat64(o, true);
  }
}

function set(v: DataView, o: number, t: CType, x: number | bigint | boolean): void {
  switch (t) {
    case "ptr":
    case "usize":
      return v.setBigUint64(o, BigInt(x), true);
    case "bool":
      return v.setUint8(o, x ? 1 : 0);
    case "i32":
      return v.setInt32(o, Number(x), true);
    case "u32":
      return v.setUint32(o, Number(x), true);
    case "f32":
      return v.setFloat32(o, Number(x), true);
    case "f64":
      return v.setFloat64(o, Number(x), true);
  }
}
