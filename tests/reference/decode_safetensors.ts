// Parses a safetensors file into tensors decoded to float64, checking the header as strictly as
// the format allows: offsets in order, inside the data, and matching shape x dtype size.

import { decodeBf16, decodeF16 } from "./_float.ts";
import { DTYPE_BYTES, type SafetensorsDtype } from "./encode_safetensors.ts";

/** A decoded tensor: values widened exactly to float64. */
export interface DecodedTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  values: Float64Array;
}

/** The contents of one safetensors file. */
export interface DecodedSafetensors {
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

/**
 * Decodes a safetensors file.
 *
 * @param bytes the whole file
 * @returns tensors by name (in header order) and the "__metadata__" map
 * @throws {RangeError} when the header or an offset is malformed
 * @throws {TypeError} when a dtype is not F32, F16 or BF16
 * @example
 * ```ts
 * import { encodeSafetensors } from "./encode_safetensors.ts";
 * const bytes = encodeSafetensors({ w: { dtype: "F32", shape: [2], values: [1, -2] } });
 * const { tensors } = decodeSafetensors(bytes);
 * if (tensors.get("w")?.values[1] !== -2) throw new Error("F32 round-trips exactly");
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array): DecodedSafetensors {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8) {
    throw new RangeError("Cannot decode safetensors: file shorter than 8 bytes");
  }
  const headerLen = Number(view.getBigUint64(0, true));
  if (8 + headerLen > bytes.length) {
    throw new RangeError(`Cannot decode safetensors: header length ${headerLen} exceeds the file`);
  }
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  const tensors = new Map<string, DecodedTensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const { dtype, shape, data_offsets: [begin, end] } = entry as {
      dtype: SafetensorsDtype;
      shape: number[];
      data_offsets: [number, number];
    };
    const size = DTYPE_BYTES[dtype];
    if (size === undefined) throw new TypeError(`Cannot decode tensor "${name}": dtype ${dtype}`);
    const count = shape.reduce((a, b) => a * b, 1);
    if (!(begin <= end && end <= dataLen && end - begin === count * size)) {
      throw new RangeError(
        `Cannot decode tensor "${name}": offsets [${begin}, ${end}] do not fit shape [${shape}] ${dtype} in ${dataLen} data bytes`,
      );
    }
    const values = new Float64Array(count);
    const p = dataStart + begin;
    for (let i = 0; i < count; i++) {
      if (dtype === "F32") values[i] = view.getFloat32(p + 4 * i, true);
      else if (dtype === "BF16") values[i] = decodeBf16(view.getUint16(p + 2 * i, true));
      else values[i] = decodeF16(view.getUint16(p + 2 * i, true));
    }
    tensors.set(name, { dtype, shape, values });
  }
  return { tensors, metadata };
}
