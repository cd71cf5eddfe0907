/** Validates an OpenAI completions / chat completions body into a scheduler request. */
import type { ChatMessage, TextTokenizer } from "../tokenizer/types.ts";
import { ApiError } from "./api_error.ts";
import type { GenerationParams } from "./types.ts";

/** What the server knows when it reads a request. */
export interface RequestContext {
  /** The served model id (`model` must equal it when given). */
  modelId: string;
  tokenizer: TextTokenizer;
  /** The target's vocabulary size (prompt ids must be below it). */
  vocab: number;
  /** Positions per sequence: prompt + max_tokens must fit. */
  maxCtx: number;
  /** Whether the target exposes logits (temperature, top-k, top-p, min_tokens need them). */
  logits: boolean;
}

/** A validated request. */
export interface ParsedRequest {
  params: GenerationParams;
  stream: boolean;
  includeUsage: boolean;
  /** vLLM's `return_token_ids`: the generated ids in each choice. */
  returnTokenIds: boolean;
}

const bad = (message: string, param: string | null, code = "invalid_value") =>
  new ApiError(400, "invalid_request_error", code, message, param);

function typeName(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Fields that would change the output in ways lmrig serve does not implement. */
function refuseUnsupported(b: Record<string, unknown>): void {
  const off = (k: string, isOff: (v: unknown) => boolean, what: string) => {
    if (k in b && b[k] !== null && !isOff(b[k])) {
      throw bad(`Unsupported value of ${k}: lmrig serve ${what}`, k, "unsupported_value");
    }
  };
  off("n", (v) => v === 1, "returns one choice per request (n must be 1)");
  off("best_of", (v) => v === 1, "returns one choice per request (best_of must be 1)");
  off("echo", (v) => v === false, "does not echo the prompt");
  off("logprobs", (v) => v === false, "does not return log probabilities");
  off("stop", (v) => Array.isArray(v) && v.length === 0, "has no stop strings");
  off("presence_penalty", (v) => v === 0, "has no penalties");
  off("frequency_penalty", (v) => v === 0, "has no penalties");
  off("repetition_penalty", (v) => v === 1, "has no penalties");
  off("tools", (v) => Array.isArray(v) && v.length === 0, "has no tool calls");
}

/**
 * Read a request body: check every field's type and range (the error names the field), the
 * model id, the prompt (a string, token ids, or chat messages rendered with the tokenizer's
 * chat template) and that prompt + max_tokens fit the context. A tokenizer id at or above the
 * target's vocabulary (tiny synthetic presets) is taken modulo the vocabulary, as the bench
 * runners do; explicit token ids must be below it.
 *
 * @param body The parsed JSON body.
 * @param kind `completions` (`prompt`) or `chat` (`messages`).
 * @param ctx The served model, tokenizer and limits.
 * @returns The scheduler request and the response options.
 * @throws {ApiError} 400 on a bad field, a prompt too long or an unsupported option; 404 when
 *   `model` names another model.
 * @example
 * ```ts
 * import { parseGenerationRequest } from "./parse_generation_request.ts";
 * import { createWhitespaceTokenizer } from "../tokenizer/mod.ts";
 * const ctx = { modelId: "m", tokenizer: createWhitespaceTokenizer(), vocab: 100, maxCtx: 32, logits: true };
 * const r = parseGenerationRequest({ model: "m", prompt: [1, 2], max_tokens: 4 }, "completions", ctx);
 * r.params.maxTokens; // 4
 * ```
 */
export function parseGenerationRequest(
  body: unknown,
  kind: "completions" | "chat",
  ctx: RequestContext,
): ParsedRequest {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw bad(`Invalid request body: expected a JSON object, got ${typeName(body)}`, null);
  }
  const b = body as Record<string, unknown>;
  const get = <T>(
    k: string,
    check: (v: unknown) => v is T,
    expected: string,
  ): T | undefined => {
    const v = b[k];
    if (v === undefined || v === null) return undefined;
    if (!check(v)) {
      throw bad(`Invalid ${k}: expected ${expected}, got ${typeName(v)}`, k, "invalid_type");
    }
    return v;
  };
  const isInt = (v: unknown): v is number => Number.isInteger(v);
  const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
  const isBool = (v: unknown): v is boolean => typeof v === "boolean";
  const isStr = (v: unknown): v is string => typeof v === "string";
  const isObj = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  const range = (k: string, v: number | undefined, ok: boolean, what: string) => {
    if (v !== undefined && !ok) throw bad(`Invalid ${k}: ${what}, got ${v}`, k);
  };

  const model = get("model", isStr, "a string");
  if (model !== undefined && model !== ctx.modelId) {
    throw new ApiError(
      404,
      "invalid_request_error",
      "model_not_found",
      `The model \`${model}\` does not exist: this server serves \`${ctx.modelId}\``,
      "model",
    );
  }
  refuseUnsupported(b);
  const stream = get("stream", isBool, "a boolean") ?? false;
  const so = get("stream_options", isObj, "an object");
  let includeUsage = false;
  if (so !== undefined) {
    if (!stream) {
      throw bad("Invalid stream_options: only allowed when stream is true", "stream_options");
    }
    const iu = so.include_usage;
    if (iu !== undefined && iu !== null && typeof iu !== "boolean") {
      throw bad(
        `Invalid stream_options.include_usage: expected a boolean, got ${typeName(iu)}`,
        "stream_options.include_usage",
        "invalid_type",
      );
    }
    includeUsage = iu === true;
  }
  const temperature = get("temperature", isNum, "a number");
  range("temperature", temperature, (temperature ?? 0) >= 0, "must be >= 0");
  const topP = get("top_p", isNum, "a number");
  range("top_p", topP, (topP ?? 1) > 0 && (topP ?? 1) <= 1, "must be in (0, 1]");
  const topK = get("top_k", isInt, "an integer");
  range("top_k", topK, (topK ?? 0) >= -1, "must be -1, 0 (off) or a positive integer");
  const seed = get("seed", isInt, "an integer");
  const ignoreEos = get("ignore_eos", isBool, "a boolean") ?? false;
  const minTokens = get("min_tokens", isInt, "an integer") ?? 0;
  range("min_tokens", minTokens, minTokens >= 0, "must be >= 0");
  const returnTokenIds = get("return_token_ids", isBool, "a boolean") ?? false;
  const maxKey = kind === "chat" && b.max_completion_tokens != null
    ? "max_completion_tokens"
    : "max_tokens";
  const maxTokens = get(maxKey, isInt, "an integer");
  range(maxKey, maxTokens, (maxTokens ?? 1) >= 1, "must be >= 1");

  const prompt = kind === "chat" ? chatPrompt(b, ctx) : completionPrompt(b, ctx);
  if (prompt.length >= ctx.maxCtx) {
    throw bad(
      `Prompt too long: ${prompt.length} tokens, but the context holds ${ctx.maxCtx} positions ` +
        `and at least one must be left for the completion`,
      kind === "chat" ? "messages" : "prompt",
      "context_length_exceeded",
    );
  }
  if (maxTokens !== undefined && prompt.length + maxTokens > ctx.maxCtx) {
    throw bad(
      `Prompt too long for ${maxKey}: ${prompt.length} prompt + ${maxTokens} completion tokens ` +
        `exceed the context of ${ctx.maxCtx} positions`,
      maxKey,
      "context_length_exceeded",
    );
  }
  const max = maxTokens ?? ctx.maxCtx - prompt.length;
  if (minTokens > max) {
    throw bad(`Invalid min_tokens: ${minTokens} is more than ${maxKey} (${max})`, "min_tokens");
  }
  const sampling = {
    temperature: temperature ?? 1,
    topK: topK !== undefined && topK > 0 ? topK : 0,
    topP: topP ?? 1,
  };
  const needsLogits = sampling.temperature > 0 || minTokens > 0;
  if (needsLogits && !ctx.logits) {
    throw bad(
      "Unsupported sampling: this target exposes no logits, so only greedy decoding " +
        "(temperature 0, no min_tokens) is available",
      "temperature",
      "unsupported_value",
    );
  }
  return {
    params: { prompt, maxTokens: max, minTokens, ignoreEos, sampling, seed },
    stream,
    includeUsage,
    returnTokenIds,
  };
}

function checkIds(ids: unknown[], field: string, vocab: number): number[] {
  ids.forEach((t, i) => {
    if (!Number.isInteger(t) || (t as number) < 0 || (t as number) >= vocab) {
      throw bad(
        `Invalid ${field}[${i}]: expected a token id in 0..${vocab - 1}, got ${JSON.stringify(t)}`,
        field,
        "invalid_type",
      );
    }
  });
  return ids as number[];
}

function encode(text: string, ctx: RequestContext, special: boolean): number[] {
  return ctx.tokenizer.encode(text, { addSpecialTokens: special }).map((t) => t % ctx.vocab);
}

function completionPrompt(b: Record<string, unknown>, ctx: RequestContext): number[] {
  let p = b.prompt;
  if (p === undefined || p === null) throw bad("Missing prompt", "prompt", "missing_field");
  if (Array.isArray(p) && p.length === 1 && (typeof p[0] === "string" || Array.isArray(p[0]))) {
    p = p[0]; // one prompt in a list
  }
  let ids: number[];
  if (typeof p === "string") ids = encode(p, ctx, true);
  else if (Array.isArray(p)) {
    if (p.some((x) => typeof x === "string" || Array.isArray(x))) {
      throw bad(
        "Unsupported prompt: lmrig serve takes one prompt per request (a string or token ids)",
        "prompt",
        "unsupported_value",
      );
    }
    ids = checkIds(p, "prompt", ctx.vocab);
  } else {
    throw bad(
      `Invalid prompt: expected a string or an array of token ids, got ${typeName(p)}`,
      "prompt",
      "invalid_type",
    );
  }
  if (ids.length === 0) throw bad("Invalid prompt: it is empty", "prompt");
  return ids;
}

function chatPrompt(b: Record<string, unknown>, ctx: RequestContext): number[] {
  const m = b.messages;
  if (m === undefined || m === null) throw bad("Missing messages", "messages", "missing_field");
  if (!Array.isArray(m) || m.length === 0) {
    throw bad(
      `Invalid messages: expected a non-empty array, got ${typeName(m)}`,
      "messages",
      "invalid_type",
    );
  }
  const messages: ChatMessage[] = m.map((x, i) => {
    const f = `messages[${i}]`;
    if (typeof x !== "object" || x === null || Array.isArray(x)) {
      throw bad(`Invalid ${f}: expected an object, got ${typeName(x)}`, f, "invalid_type");
    }
    const { role, content } = x as Record<string, unknown>;
    if (typeof role !== "string") {
      throw bad(
        `Invalid ${f}.role: expected a string, got ${typeName(role)}`,
        `${f}.role`,
        "invalid_type",
      );
    }
    if (typeof content === "string") return { role, content };
    if (content === null || content === undefined) return { role, content: "" };
    if (Array.isArray(content)) {
      const parts = content.map((part, j) => {
        const pp = part as Record<string, unknown> | null;
        if (pp?.type !== "text" || typeof pp.text !== "string") {
          throw bad(
            `Unsupported ${f}.content[${j}]: lmrig serve takes text parts only ` +
              `({"type": "text", "text": ...})`,
            `${f}.content`,
            "unsupported_value",
          );
        }
        return pp.text;
      });
      return { role, content: parts.join("") };
    }
    throw bad(
      `Invalid ${f}.content: expected a string or an array of text parts, got ${typeName(content)}`,
      `${f}.content`,
      "invalid_type",
    );
  });
  if (!ctx.tokenizer.hasChatTemplate) {
    throw bad(
      `Unsupported chat completion: the tokenizer of ${ctx.modelId} has no chat template ` +
        `(use /v1/completions)`,
      "messages",
      "unsupported_value",
    );
  }
  const text = ctx.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
  return encode(text, ctx, false);
}
