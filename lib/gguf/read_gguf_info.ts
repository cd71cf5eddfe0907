/** Reading a GGUF file's header: metadata and tensor infos (not the tensor data). */

/** What {@link readGgufInfo} returns. */
export interface GgufInfo {
  version: number;
  metadata: Record<string, unknown>;
  tensors: { name: string; ne: number[]; ggmlType: number; offset: number }[];
  /** File offset of the data section. */
  dataOffset: number;
}

/**
 * Parse a GGUF file's header (versions 2 and 3). Arrays of strings longer than 64 entries are
 * summarised as their length, to keep a 150k-token vocabulary out of memory twice.
 *
 * @param path The .gguf file.
 * @returns Version, metadata, tensor infos and the data offset.
 * @throws {Error} `Cannot read GGUF "<path>": <why>` on a bad magic, version or a truncated header.
 * @example
 * ```ts
 * import { writeGguf } from "./write_gguf.ts";
 * import { readGgufInfo } from "./read_gguf_info.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".gguf" });
 * await writeGguf(path, [["a", { type: "u32", value: 7 }]], []);
 * if (readGgufInfo(path).metadata.a !== 7) throw new Error("round trip");
 * ```
 */
export function readGgufInfo(path: string): GgufInfo {
  const bytes = Deno.readFileSync(path);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dec = new TextDecoder();
  let o = 0;
  const fail = (why: string): never => {
    throw new Error(`Cannot read GGUF "${path}": ${why}`);
  };
  const need = (n: number) => {
    if (o + n > bytes.length) fail(`truncated at byte ${o}`);
  };
  const u32 = () => (need(4), o += 4, v.getUint32(o - 4, true));
  const u64 = () => (need(8), o += 8, Number(v.getBigUint64(o - 8, true)));
  const str = () => {
    const n = u64();
    need(n);
    o += n;
    return dec.decode(bytes.subarray(o - n, o));
  };
  const scalar = (t: number): unknown => {
    switch (t) {
      case 0:
        return (need(1), bytes[o++]);
      case 1:
        return (need(1), v.getInt8(o++));
      case 2:
        return (need(2), o += 2, v.getUint16(o - 2, true));
      case 3:
        return (need(2), o += 2, v.getInt16(o - 2, true));
      case 4:
        return u32();
      case 5:
        return (need(4), o += 4, v.getInt32(o - 4, true));
      case 6:
        return (need(4), o += 4, v.getFloat32(o - 4, true));
      case 7:
        return (need(1), bytes[o++] !== 0);
      case 8:
        return str();
      case 10:
        return u64();
      case 11:
        return (need(8), o += 8, Number(v.getBigInt64(o - 8, true)));
      case 12:
        return (need(8), o += 8, v.getFloat64(o - 8, true));
    }
    return fail(`unknown value type ${t} at byte ${o}`);
  };
  const value = (t: number): unknown => {
    if (t !== 9) return scalar(t);
    const et = u32(), n = u64();
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const x = scalar(et);
      if (i < 64) out.push(x);
    }
    return n > 64 ? { length: n, head: out } : out;
  };
  if (bytes.length < 4 || dec.decode(bytes.subarray(0, 4)) !== "GGUF") fail("not a GGUF file");
  o = 4;
  const version = u32();
  if (version < 2 || version > 3) fail(`unsupported version ${version}`);
  const nTensors = u64(), nKv = u64();
  const metadata: Record<string, unknown> = {};
  for (let i = 0; i < nKv; i++) {
    const k = str();
    metadata[k] = value(u32());
  }
  const tensors: GgufInfo["tensors"] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    const ne = Array.from({ length: nd }, u64);
    tensors.push({ name, ne, ggmlType: u32(), offset: u64() });
  }
  const align = Number(metadata["general.alignment"] ?? 32);
  return { version, metadata, tensors, dataOffset: Math.ceil(o / align) * align };
}
