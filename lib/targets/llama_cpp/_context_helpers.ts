/** Small pieces of the llama.cpp target: decode statuses, KV element sizes, metadata, checks. */
import type { LlamaLibrary } from "./load_llama.ts";

/** What llama_decode's non-zero statuses mean (llama.h). */
export const DECODE_STATUS: Record<number, string> = {
  1: "no KV cache slot for the batch (the context does not fit)",
  2: "aborted",
  [-1]: "invalid input batch",
};

/** Bytes per KV element (q8_0: 34 bytes per block of 32). */
export const KV_BYTES: Record<string, number> = { f32: 4, f16: 2, bf16: 2, q8_0: 34 / 32 };

/** A model metadata value as a string ("" when absent). */
export function metaOf(
  sym: LlamaLibrary["symbols"],
  model: Deno.PointerValue,
  key: string,
): string {
  const buf = new Uint8Array(256);
  const n = sym.llama_model_meta_val_str(model, new TextEncoder().encode(key + "\0"), buf, 256n);
  return n < 0 ? "" : new TextDecoder().decode(buf.subarray(0, buf.indexOf(0)));
}

/** Throw a RangeError unless `v` is an integer in [min, max]. */
export function checkInt(name: string, v: number, min: number, max = 1 << 30): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`Invalid ${name}: expected an integer in [${min}, ${max}], got ${v}`);
  }
}
