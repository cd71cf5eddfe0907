/** One streamed text request with its timing breakdown: tokenize, prefill, decode, sample, detokenize. */
import type { Target } from "../targets/types.ts";
import { StreamingDetokenizer } from "../tokenizer/streaming_detokenizer.ts";
import type { TextTokenizer } from "../tokenizer/types.ts";

/** What a request starts from: a text (tokenized here, timed) or token ids. */
export type PromptInput =
  | { text: string; chatTemplate: boolean }
  | { tokens: readonly number[] };

/** The figures of one request, ns. Engine parts are the engine's own call times. */
export interface PromptRequestFigures {
  promptTokens: number;
  /** Chat template + encode (JS-timed; 0 for token input). */
  tokenizeNs: number;
  prefillNs: number;
  /** Decode forward passes (engine). */
  decodeForwardNs: number;
  /** Every sample call, the first included (engine). */
  samplingNs: number;
  /** Streamed detokenization of every generated token + the final flush (JS-timed). */
  detokenizeNs: number;
  /** Sum of the five parts. */
  breakdownSumNs: number;
  /**
   * FFI overhead, measured: the JS wall time around each engine call (with its counter read)
   * minus the engine's own time of it, summed.
   */
  ffiOverheadNs: number;
  /** JS wall time of the whole request, tokenization to the last text delta. */
  wallNs: number;
  /** wallNs - breakdownSumNs - ffiOverheadNs: the JS loop between calls (timed by nothing). */
  unaccountedNs: number;
  /** prefill + first sample. */
  ttftNs: number;
  /** stepNs[0] = TTFT, stepNs[i] = decode forward + sample of token i. */
  stepNs: number[];
  tokens: number[];
  /** The streamed text. */
  text: string;
}

/**
 * Run one request on sequence 0 of `session`, the way a server streams it: tokenize (chat
 * template first when asked and the tokenizer has one), prefill, sample the first token, then
 * per token one decode step, one sample and one streamed-detokenizer push. Engine parts come
 * from counters.last_call_ns after each call; tokenization and detokenization are timed in JS
 * (they run in JS); the FFI overhead of each engine call (JS wall around it - engine time) is
 * summed apart, so parts + FFI + the untimed JS loop = the wall time. Prompt ids are taken modulo `vocab` (tiny presets have small vocabularies).
 *
 * @param target The target (its calls return their engine times) whose sequence 0 is free (it
 *   is reset before and after).
 * @param tokenizer The model's tokenizer.
 * @param input A text or token ids.
 * @param decodeTokens Tokens to generate, the first included (end-of-text is not a stop).
 * @param vocab The model's vocabulary size.
 * @returns The figures.
 * @throws {EngineError} When the engine fails.
 * @example
 * ```ts ignore
 * const f = await runPromptsRequest(target, tok, { text: "Hello", chatTemplate: true },
 *   16, 151936);
 * f.ttftNs; f.breakdownSumNs / f.wallNs;
 * ```
 */
export async function runPromptsRequest(
  target: Target,
  tokenizer: TextTokenizer,
  input: PromptInput,
  decodeTokens: number,
  vocab: number,
): Promise<PromptRequestFigures> {
  if (!Number.isInteger(decodeTokens) || decodeTokens < 1) {
    throw new RangeError(`decodeTokens must be a positive integer, got ${decodeTokens}`);
  }
  target.reset(0);
  const t0 = performance.now();
  let prompt: number[];
  if ("text" in input) {
    const text = input.chatTemplate && tokenizer.hasChatTemplate
      ? tokenizer.applyChatTemplate([{ role: "user", content: input.text }])
      : input.text;
    // The template already holds the special tokens the model expects.
    prompt = tokenizer.encode(text, { addSpecialTokens: !input.chatTemplate });
  } else prompt = [...input.tokens];
  const t1 = performance.now();
  for (let i = 0; i < prompt.length; i++) prompt[i] %= vocab;
  const detok = new StreamingDetokenizer(tokenizer, { skipSpecialTokens: true });
  let detokMs = 0;
  let text = "";
  const stream = (token: number) => {
    const a = performance.now();
    text += detok.push(token);
    detokMs += performance.now() - a;
  };

  let ffiMs = 0;
  /** Run one engine call; its engine time, with the JS time around it charged to FFI. */
  const timed = async (call: () => Promise<number> | number): Promise<number> => {
    const a = performance.now();
    const ns = await call();
    ffiMs += performance.now() - a - ns / 1e6;
    return ns;
  };
  let token = 0;
  const sampleOnce = () => {
    const s = target.sample(0);
    token = s.token;
    return s.ns;
  };
  const prefillNs = await timed(() => target.prefill(0, prompt));
  let samplingNs = await timed(sampleOnce);
  const stepNs = [prefillNs + samplingNs];
  const tokens = [token];
  stream(token);
  let decodeForwardNs = 0;
  for (let i = 1; i < decodeTokens; i++) {
    const forward = await timed(() => target.decode([0], [token]));
    const sample = await timed(sampleOnce);
    decodeForwardNs += forward;
    samplingNs += sample;
    stepNs.push(forward + sample);
    tokens.push(token);
    stream(token);
  }
  const a = performance.now();
  text += detok.flush();
  detokMs += performance.now() - a;
  const wallNs = (performance.now() - t0) * 1e6;
  target.reset(0);
  const tokenizeNs = (t1 - t0) * 1e6;
  const detokenizeNs = detokMs * 1e6;
  const breakdownSumNs = tokenizeNs + prefillNs + decodeForwardNs + samplingNs + detokenizeNs;
  const ffiOverheadNs = ffiMs * 1e6;
  return {
    promptTokens: prompt.length,
    tokenizeNs,
    prefillNs,
    decodeForwardNs,
    samplingNs,
    detokenizeNs,
    breakdownSumNs,
    ffiOverheadNs,
    wallNs,
    unaccountedNs: wallNs - breakdownSumNs - ffiOverheadNs,
    ttftNs: stepNs[0],
    stepNs,
    tokens,
    text,
  };
}
