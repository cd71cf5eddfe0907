/** An error lmrig serve answers with an HTTP status and OpenAI's error body. */

/**
 * A request failure with its HTTP status and OpenAI's error fields; {@link ApiError.toResponse}
 * gives `{"error": {"message", "type", "param", "code"}}` with that status.
 *
 * @example
 * ```ts
 * import { ApiError } from "./api_error.ts";
 * const e = new ApiError(400, "invalid_request_error", "invalid_type", "max_tokens must be an integer", "max_tokens");
 * const r = e.toResponse();
 * r.status; // 400
 * ```
 */
export class ApiError extends Error {
  /**
   * @param status HTTP status (400, 404, 429, 503, ...).
   * @param type OpenAI error type (`invalid_request_error`, `not_found_error`, ...).
   * @param code Machine-readable code (`model_not_found`, `context_length_exceeded`, ...).
   * @param message What failed and why.
   * @param param The request field at fault, when one is.
   */
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** The error body. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    return {
      error: { message: this.message, type: this.type, param: this.param, code: this.code },
    };
  }

  /** The HTTP response: status and JSON error body. */
  toResponse(): Response {
    return new Response(JSON.stringify(this.toJSON()), {
      status: this.status,
      headers: { "content-type": "application/json" },
    });
  }
}
