/**
 * Types of the OpenAI-compatible HTTP client: one streamed request, its result, the timeouts
 * that bound it and the kinds of failure it records (docs/serving.md, "The HTTP target").
 * @module
 */

/** Which OpenAI endpoint a request goes to: `/v1/completions` or `/v1/chat/completions`. */
export type HttpApi = "completions" | "chat";

/**
 * Why a request failed. Faults are data: every failed request carries one kind and the reason.
 *
 * - `connect-refused`: the TCP connection was refused or reset before a response, the host could
 *   not be reached at all, or what answered was not HTTP/1.x.
 * - `connect-timeout`: no response head within `connectMs` (the TCP connect, the request and the
 *   server's status line and headers).
 * - `first-token-timeout`: headers came, but no content token within `firstTokenMs` of sending.
 * - `idle-timeout`: the stream had started and then nothing arrived for `idleMs` (a server that
 *   stops answering).
 * - `total-timeout`: the request ran longer than `totalMs` in all.
 * - `http-4xx` / `http-5xx`: an error status; the message is the server's (its JSON `error` or
 *   body text).
 * - `malformed-sse`: a `data:` payload that is not JSON, a content type that is not an event
 *   stream, or a chunk without `choices`.
 * - `server-error`: the stream carried an `error` object (an in-band failure report).
 * - `stream-cut`: the connection ended before `data: [DONE]` (or before a finish reason).
 * - `aborted`: the run was stopped (Ctrl-C, a duration bound cutting in-flight requests).
 */
export type HttpErrorKind =
  | "connect-refused"
  | "connect-timeout"
  | "first-token-timeout"
  | "idle-timeout"
  | "total-timeout"
  | "http-4xx"
  | "http-5xx"
  | "malformed-sse"
  | "server-error"
  | "stream-cut"
  | "aborted";

/** Every error kind, in the order tables list them. */
export const HTTP_ERROR_KINDS: readonly HttpErrorKind[] = [
  "connect-refused",
  "connect-timeout",
  "first-token-timeout",
  "idle-timeout",
  "total-timeout",
  "http-4xx",
  "http-5xx",
  "malformed-sse",
  "server-error",
  "stream-cut",
  "aborted",
];

/** Bounds of one request, milliseconds; a request never runs past `totalMs`. */
export interface HttpTimeouts {
  /** Send to response head (default 10,000). */
  connectMs: number;
  /** Send to the first content token (default 60,000). */
  firstTokenMs: number;
  /** Longest silence once the stream has started (default 30,000). */
  idleMs: number;
  /** Send to the end of the stream (default 600,000). */
  totalMs: number;
}

/** The default bounds (see {@link HttpTimeouts}). */
export const DEFAULT_TIMEOUTS: HttpTimeouts = {
  connectMs: 10_000,
  firstTokenMs: 60_000,
  idleMs: 30_000,
  totalMs: 600_000,
};

/** One request to send. */
export interface HttpRequestSpec {
  /** The endpoint's base URL, ending in `/v1` (e.g. `http://127.0.0.1:8000/v1`). */
  baseUrl: string;
  api: HttpApi;
  /** The `model` field of the request. */
  model: string;
  /** A text, or token ids (completions only: `prompt` as a list of ints). */
  prompt: string | number[];
  /** `max_tokens`. */
  maxTokens: number;
  /**
   * Ask for exactly maxTokens tokens: sends `ignore_eos: true` and `min_tokens: maxTokens`
   * (vLLM, SGLang, lmrig serve honour them; others may ignore them: see `honoured`).
   */
  exactTokens: boolean;
  /** Bearer token (from the environment variable named by --api-key-env). */
  apiKey?: string;
  timeouts: HttpTimeouts;
  /** Extra body fields (temperature, seed, ...), merged last. */
  extraBody?: Record<string, unknown>;
}

/** Timings the server reported about itself, milliseconds as sent (absent fields unknown). */
export interface ServerTimings {
  /** Which extension they came from. */
  source: "lmrig" | "llama.cpp";
  /** lmrig: arrival to prefill start. */
  queueMs?: number;
  /** lmrig: prefill; llama.cpp: `timings.prompt_ms`. */
  prefillMs?: number;
  /** lmrig: decode time so far (last chunk: all); llama.cpp: `timings.predicted_ms`. */
  decodeMs?: number;
  /** lmrig: the first chunk's queue + prefill (the server's share of TTFT). */
  firstTokenMs?: number;
  /** Tokens the server says it generated (lmrig `tokens`, llama.cpp `predicted_n`). */
  tokens?: number;
  /** llama.cpp: `prompt_n`. */
  promptTokens?: number;
}

/** How the output token count of a request was obtained. */
export type TokenSource = "usage" | "tokenizer" | "chunks";

/**
 * One request as the client saw it, times in ns on the isolate's monotonic clock
 * (performance.now) relative to the moment the request was sent.
 */
export interface HttpRequestResult {
  ok: boolean;
  /** Set when ok is false. */
  errorKind?: HttpErrorKind;
  /** What failed and why (the server's message for HTTP errors). */
  error?: string;
  /** HTTP status when a response head came. */
  status?: number;
  /** Send to response head. */
  headersNs?: number;
  /** Send to the first chunk carrying content (TTFT). */
  ttftNs?: number;
  /** Send to the last chunk (E2E). */
  e2eNs?: number;
  /** Gaps between consecutive content chunks (ITL; 0 when two arrived in one read). */
  itlNs: number[];
  /** Content chunks received. */
  chunks: number;
  /** Output tokens: usage.completion_tokens, else tokenizer, else chunk count. */
  outputTokens: number;
  tokenSource: TokenSource;
  /** usage.prompt_tokens when the server sent usage, else null. */
  promptTokens: number | null;
  /** The generated text when the token count still has to be made from it, else undefined. */
  text?: string;
  finishReason?: string;
  /**
   * exactTokens: true when the server made exactly maxTokens tokens (it honoured ignore_eos /
   * min_tokens), false when it made fewer or more; null when not asked or not countable.
   */
  honoured: boolean | null;
  server?: ServerTimings;
}

/** The HTTP target as the command line gives it (runHttpBench, `deno task bench --target http://...`). */
export interface HttpTargetOptions {
  /** Base URLs ending in /v1; requests go round-robin over them. */
  endpoints: string[];
  /** Environment variable holding the API key (sent as a Bearer token). */
  apiKeyEnv?: string;
  /** The `model` field; default the first id /v1/models lists. */
  modelName?: string;
  /** Force the API (default: workers completions with token ids, prompts chat). */
  api?: HttpApi;
  /** Load isolates (overrides the scenario's http.isolates). */
  isolates?: number;
  /** Goodput SLOs, ms (override the scenario's http.slo). */
  slo?: { ttftMs?: number; tpotMs?: number; e2eMs?: number };
  /** A dataset file whose prompts the workers scenario sends (overrides http.dataset.path). */
  dataset?: string;
}
