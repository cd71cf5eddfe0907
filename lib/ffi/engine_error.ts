/** The error every failed lmrig call surfaces as. */
import { STATUS_NAMES } from "./constants.ts";

/**
 * A failure reported by the native engine: its status, the status's name and the engine's own
 * message (from lmr_last_error).
 *
 * @example
 * ```ts
 * import { EngineError } from "./engine_error.ts";
 * const e = new EngineError("Cannot prefill sequence 0", -6, "token 99999 >= vocab 1000");
 * e.code; // "LMR_ERR_OUT_OF_RANGE"
 * e.message; // "Cannot prefill sequence 0: token 99999 >= vocab 1000 (LMR_ERR_OUT_OF_RANGE)"
 * ```
 */
export class EngineError extends Error {
  /** The lmr_status value (< 0). */
  readonly status: number;
  /** The status's name, e.g. "LMR_ERR_OUT_OF_RANGE". */
  readonly code: string;
  /** The engine's message, verbatim. */
  readonly nativeMessage: string;

  /**
   * @param what What failed, e.g. `Cannot load model "x"`.
   * @param status The lmr_status returned.
   * @param nativeMessage The text of lmr_last_error ("" when none).
   */
  constructor(what: string, status: number, nativeMessage: string) {
    const code = STATUS_NAMES[status] ?? `status ${status}`;
    super(`${what}: ${nativeMessage || "no message from the engine"} (${code})`);
    this.name = "EngineError";
    this.status = status;
    this.code = code;
    this.nativeMessage = nativeMessage;
  }
}
