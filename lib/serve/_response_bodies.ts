/** OpenAI response and stream-chunk bodies of lmrig serve (completions and chat). */
import type { LmrigTimings } from "./types.ts";

/** The usage block. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Fields every body of one request shares. */
export interface BodyHead {
  id: string;
  created: number;
  model: string;
  kind: "completions" | "chat";
}

/** The usage block of a request. */
export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** One stream chunk: one token's text, its finish reason on the last one, the timings. */
export function chunkBody(
  h: BodyHead,
  text: string,
  first: boolean,
  finishReason: string | null,
  timings: LmrigTimings,
  tokenIds: number[] | null,
  withUsage: boolean,
): Record<string, unknown> {
  const choice: Record<string, unknown> = h.kind === "chat"
    ? { index: 0, delta: first ? { role: "assistant", content: text } : { content: text } }
    : { index: 0, text };
  choice.logprobs = null;
  choice.finish_reason = finishReason;
  if (tokenIds !== null) choice.token_ids = tokenIds;
  const body: Record<string, unknown> = {
    id: h.id,
    object: h.kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created: h.created,
    model: h.model,
    choices: [choice],
  };
  if (withUsage) body.usage = null;
  body.lmrig = timings;
  return body;
}

/** The last chunk when stream_options.include_usage is true: no choices, the usage. */
export function usageChunkBody(h: BodyHead, usage: Usage, timings: LmrigTimings) {
  return {
    id: h.id,
    object: h.kind === "chat" ? "chat.completion.chunk" : "text_completion",
    created: h.created,
    model: h.model,
    choices: [],
    usage,
    lmrig: timings,
  };
}

/** A whole (not streamed) response. */
export function responseBody(
  h: BodyHead,
  text: string,
  finishReason: string,
  usage: Usage,
  timings: LmrigTimings,
  tokenIds: number[] | null,
  promptIds: number[] | null,
): Record<string, unknown> {
  const choice: Record<string, unknown> = h.kind === "chat"
    ? { index: 0, message: { role: "assistant", content: text } }
    : { index: 0, text };
  choice.logprobs = null;
  choice.finish_reason = finishReason;
  if (tokenIds !== null) choice.token_ids = tokenIds;
  const body: Record<string, unknown> = {
    id: h.id,
    object: h.kind === "chat" ? "chat.completion" : "text_completion",
    created: h.created,
    model: h.model,
    choices: [choice],
    usage,
  };
  if (promptIds !== null) body.prompt_token_ids = promptIds;
  body.lmrig = timings;
  return body;
}
