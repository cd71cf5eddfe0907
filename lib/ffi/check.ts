/** The one place a native status becomes an exception. */
import { EngineError } from "./engine_error.ts";
import type { Library } from "./load_library.ts";

/**
 * Throw an {@link EngineError} when `status` is not LMR_OK, carrying the engine's message
 * (lmr_last_error of `engine`; NULL reads this thread's message of a failed engine create).
 *
 * @param lib The library the call went through.
 * @param status The returned lmr_status.
 * @param engine The engine the call ran under, or null.
 * @param what What was attempted, e.g. `Cannot load model "x"`.
 * @returns Nothing; it returns only when status is LMR_OK (0).
 * @throws {EngineError} When status < 0 (or any non-zero value).
 * @example
 * ```ts
 * import { check } from "./check.ts";
 * import { EngineError } from "./engine_error.ts";
 * import { loadLibrary } from "./load_library.ts";
 * const lib = loadLibrary();
 * check(lib, 0, null, "Cannot reset counters"); // LMR_OK: returns
 * try {
 *   check(lib, -1, null, "Cannot reset counters");
 * } catch (e) {
 *   if (!(e instanceof EngineError)) throw e;
 * }
 * ```
 */
export function check(
  lib: Library,
  status: number,
  engine: Deno.PointerValue,
  what: string,
): void {
  if (status === 0) return;
  const msgPtr = lib.symbols.lmr_last_error(engine);
  const msg = msgPtr === null ? "" : Deno.UnsafePointerView.getCString(msgPtr);
  throw new EngineError(what, status, msg);
}
