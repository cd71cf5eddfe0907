/** Names of the synthetic model presets the engine knows. */
import { check } from "./check.ts";
import { type Library, loadLibrary } from "./load_library.ts";

/**
 * The preset names accepted by {@link Engine.synthesize}.
 *
 * @param lib The library; default {@link loadLibrary}().
 * @returns e.g. ["qwen2.5-0.5b", "qwen2.5-1.5b", ..., "tiny-qwen2", "tiny-llama"].
 * @throws {EngineError} When the engine cannot list them.
 * @example
 * ```ts
 * import { listPresets } from "./list_presets.ts";
 * console.log(listPresets());
 * ```
 */
export function listPresets(lib: Library = loadLibrary()): string[] {
  const needed = new BigUint64Array(1);
  let buf = new Uint8Array(1024);
  let status = lib.symbols.lmr_model_presets(buf, BigInt(buf.length), needed);
  if (status === -9 /* LMR_ERR_BUFFER_TOO_SMALL: retry with the size it needs */) {
    buf = new Uint8Array(Number(needed[0]));
    status = lib.symbols.lmr_model_presets(buf, BigInt(buf.length), needed);
  }
  check(lib, status, null, "Cannot list model presets");
  const end = buf.indexOf(0);
  const text = new TextDecoder().decode(end < 0 ? buf : buf.subarray(0, end));
  return text.split("\n").filter((s) => s.length > 0);
}
