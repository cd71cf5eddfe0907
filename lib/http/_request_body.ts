/** The JSON body of one streamed request (vLLM's request fields; see docs/serving.md). */
import type { HttpRequestSpec } from "./types.ts";

/** The request body of a spec; throws TypeError for a chat request given token ids. */
export function requestBody(spec: HttpRequestSpec): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: spec.model,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: spec.maxTokens,
    temperature: 0,
  };
  if (spec.api === "chat") {
    if (typeof spec.prompt !== "string") {
      throw new TypeError("Cannot build a chat request: the prompt must be text, not token ids");
    }
    body.messages = [{ role: "user", content: spec.prompt }];
  } else body.prompt = spec.prompt;
  if (spec.exactTokens) {
    body.ignore_eos = true;
    body.min_tokens = spec.maxTokens;
  }
  return { ...body, ...spec.extraBody };
}
