/** Writing a GGUF v3 file: header, metadata, tensor infos, aligned tensor data. */

/** A metadata value with its GGUF type. Arrays hold one element type. */
export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "u64"; value: number }
  | { type: "string[]"; value: readonly string[] }
  | { type: "i32[]"; value: ArrayLike<number> }
  | { type: "f32[]"; value: ArrayLike<number> };

/** One tensor to write; `ne` in ggml order (ne[0] is the contiguous dimension). */
export interface GgufTensor {
  name: string;
  /** GGML_TYPE_*: 0 f32, 1 f16, 30 bf16. */
  ggmlType: number;
  ne: readonly number[];
  /** Bytes of the tensor, produced when the data section is written (one tensor in memory). */
  data: () => Promise<Uint8Array> | Uint8Array;
  /** Byte size the data will have. */
  bytes: number;
}

/** GGUF value type ids. */
const T = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10 } as const;
const ALIGN = 32;

class Buf {
  parts: Uint8Array[] = [];
  #enc = new TextEncoder();
  u32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.parts.push(b);
  }
  i32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    this.parts.push(b);
  }
  f32(v: number) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.parts.push(b);
  }
  u64(v: number) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.parts.push(b);
  }
  str(s: string) {
    const e = this.#enc.encode(s);
    this.u64(e.length);
    this.parts.push(e);
  }
  get length() {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) out.set(p, o), o += p.length;
    return out;
  }
}

function writeValue(b: Buf, v: GgufValue): void {
  switch (v.type) {
    case "u32":
      return b.u32(T.u32), b.u32(v.value);
    case "i32":
      return b.u32(T.i32), b.i32(v.value);
    case "f32":
      return b.u32(T.f32), b.f32(v.value);
    case "bool":
      return b.u32(T.bool), void b.parts.push(new Uint8Array([v.value ? 1 : 0]));
    case "string":
      return b.u32(T.string), b.str(v.value);
    case "u64":
      return b.u32(T.u64), b.u64(v.value);
    case "string[]":
      b.u32(T.array), b.u32(T.string), b.u64(v.value.length);
      for (const s of v.value) b.str(s);
      return;
    case "i32[]":
      b.u32(T.array), b.u32(T.i32), b.u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) b.i32(v.value[i]);
      return;
    case "f32[]":
      b.u32(T.array), b.u32(T.f32), b.u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) b.f32(v.value[i]);
      return;
  }
}

/**
 * Write a GGUF v3 file (alignment 32) to `path` via `path.tmp` and a rename, so a failed write
 * never leaves a file under the real name.
 *
 * @param path The output file.
 * @param metadata Key/value pairs in the order to write them.
 * @param tensors Tensor infos and their data producers, in file order.
 * @returns The bytes written.
 * @throws {RangeError} When a tensor's data is not the size it declared.
 * @example
 * ```ts
 * import { writeGguf } from "./write_gguf.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".gguf" });
 * const data = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
 * const n = await writeGguf(path, [["general.architecture", { type: "string", value: "llama" }]], [
 *   { name: "t", ggmlType: 0, ne: [4], bytes: 16, data: () => data },
 * ]);
 * if (n !== Deno.statSync(path).size) throw new Error("size");
 * ```
 */
export async function writeGguf(
  path: string,
  metadata: readonly (readonly [string, GgufValue])[],
  tensors: readonly GgufTensor[],
): Promise<number> {
  const h = new Buf();
  h.parts.push(new TextEncoder().encode("GGUF"));
  h.u32(3);
  h.u64(tensors.length);
  h.u64(metadata.length);
  for (const [k, v] of metadata) h.str(k), writeValue(h, v);
  let off = 0;
  for (const t of tensors) {
    h.str(t.name);
    h.u32(t.ne.length);
    for (const n of t.ne) h.u64(n);
    h.u32(t.ggmlType);
    h.u64(off);
    off += Math.ceil(t.bytes / ALIGN) * ALIGN;
  }
  const headLen = h.length;
  h.parts.push(new Uint8Array(Math.ceil(headLen / ALIGN) * ALIGN - headLen));
  const tmp = `${path}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  let written = 0;
  const put = async (b: Uint8Array) => {
    for (let o = 0; o < b.length;) o += await file.write(b.subarray(o));
    written += b.length;
  };
  try {
    await put(h.bytes());
    for (const t of tensors) {
      const d = await t.data();
      if (d.byteLength !== t.bytes) {
        throw new RangeError(`Tensor "${t.name}" has ${d.byteLength} bytes, declared ${t.bytes}`);
      }
      await put(d);
      const pad = Math.ceil(d.byteLength / ALIGN) * ALIGN - d.byteLength;
      if (pad) await put(new Uint8Array(pad));
    }
  } catch (e) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  file.close();
  await Deno.rename(tmp, path);
  return written;
}
