/**
 * C struct layouts described once: the Deno FFI struct type, byte offsets by C alignment rules,
 * and read/write of a struct held in a byte buffer. Used for every params/info struct of lmrig.h.
 */

/** Field types that occur in lmrig.h structs; `char[N]` is written `{ chars: N }`. */
export type FieldType = "u32" | "i32" | "u64" | "f32" | "f64" | { chars: number };

/** A layout: ordered [name, type] pairs exactly as the C struct declares them. */
export type Fields = readonly (readonly [string, FieldType])[];

/** Values of a struct: numbers for scalars (u64 as number, exact below 2^53), strings for chars. */
export type StructValues = Record<string, number | string>;

/** A struct layout with its Deno FFI type and accessors. */
export interface StructLayout {
  name: string;
  size: number;
  offsets: Record<string, number>;
  ffi: Deno.NativeStructType;
  read(bytes: Uint8Array): StructValues;
  write(bytes: Uint8Array, values: StructValues): void;
}

const SIZES = { u32: 4, i32: 4, u64: 8, f32: 4, f64: 8 } as const;

function sizeOf(t: FieldType): number {
  return typeof t === "object" ? t.chars : SIZES[t];
}

function alignOf(t: FieldType): number {
  return typeof t === "object" ? 1 : SIZES[t];
}

/** Describe a C struct; offsets and size follow the x86-64/arm64 System V and AAPCS64 rules. */
export function defineStruct(name: string, fields: Fields): StructLayout {
  const offsets: Record<string, number> = {};
  const ffiFields: Deno.NativeType[] = [];
  let off = 0, maxAlign = 1;
  for (const [field, t] of fields) {
    const a = alignOf(t);
    maxAlign = Math.max(maxAlign, a);
    off = Math.ceil(off / a) * a;
    offsets[field] = off;
    off += sizeOf(t);
    if (typeof t === "object") { for (let i = 0; i < t.chars; i++) ffiFields.push("u8"); }
    else ffiFields.push(t);
  }
  const size = Math.ceil(off / maxAlign) * maxAlign;
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  return {
    name,
    size,
    offsets,
    ffi: { struct: ffiFields },
    read(bytes) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const out: StructValues = {};
      for (const [field, t] of fields) {
        const o = offsets[field];
        if (typeof t === "object") {
          const raw = bytes.subarray(o, o + t.chars);
          const end = raw.indexOf(0);
          out[field] = decoder.decode(end < 0 ? raw : raw.subarray(0, end));
        } else if (t === "u32") out[field] = view.getUint32(o, true);
        else if (t === "i32") out[field] = view.getInt32(o, true);
        else if (t === "u64") out[field] = Number(view.getBigUint64(o, true));
        else if (t === "f32") out[field] = view.getFloat32(o, true);
        else out[field] = view.getFloat64(o, true);
      }
      return out;
    },
    write(bytes, values) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (const [field, t] of fields) {
        if (!(field in values)) continue;
        const v = values[field];
        const o = offsets[field];
        if (typeof t === "object") {
          const enc = encoder.encode(String(v)).subarray(0, t.chars - 1);
          bytes.fill(0, o, o + t.chars);
          bytes.set(enc, o);
        } else if (t === "u32") view.setUint32(o, Number(v), true);
        else if (t === "i32") view.setInt32(o, Number(v), true);
        else if (t === "u64") view.setBigUint64(o, BigInt(v), true);
        else if (t === "f32") view.setFloat32(o, Number(v), true);
        else view.setFloat64(o, Number(v), true);
      }
    },
  };
}
