// Serialises tensors to the safetensors format: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}, "__metadata__": {...}} padded with spaces to a
// multiple of 8 bytes, then the tensor bytes back to back (offsets relative to the data start).

import { encodeBf16, encodeF16 } from "./_float.ts";

/** Element types this reference reads and writes. */
export type SafetensorsDtype = "F32" | "F16" | "BF16";

/** A tensor to write: values are rounded to `dtype` (round to nearest, ties to even). */
export interface TensorInput {
  dtype: SafetensorsDtype;
  /** Row-major shape; a Linear weight is [out, in]. */
  shape: number[];
  values: ArrayLike<number>;
}

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/**
 * Encodes tensors as one safetensors file, in the order given.
 *
 * @param tensors tensors by name
 * @param metadata string-to-string "__metadata__" (e.g. {format: "pt"})
 * @returns the file's bytes
 * @throws {RangeError} when a shape does not match its values or a dtype is unknown
 * @example
 * ```ts
 * const bytes = encodeSafetensors({ w: { dtype: "BF16", shape: [2], values: [1, -2] } });
 * ```
 */
export function encodeSafetensors(
  tensors: Record<string, TensorInput>,
  metadata: Record<string, string> = { format: "pt" },
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const size = DTYPE_BYTES[t.dtype];
    if (size === undefined) {
      throw new RangeError(`Cannot encode tensor "${name}": dtype ${t.dtype}`);
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.values.length) {
      throw new RangeError(
        `Cannot encode tensor "${name}": shape [${t.shape}] needs ${count} values, got ${t.values.length}`,
      );
    }
    header[name] = {
      dtype: t.dtype,
      shape: t.shape,
      data_offsets: [offset, offset + count * size],
    };
    offset += count * size;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // the header is ASCII: chars = bytes
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    for (let i = 0; i < t.values.length; i++) {
      const v = t.values[i];
      if (t.dtype === "F32") {
        view.setFloat32(p, v, true);
        p += 4;
      } else {
        view.setUint16(p, t.dtype === "BF16" ? encodeBf16(v) : encodeF16(v), true);
        p += 2;
      }
    }
  }
  return out;
}
