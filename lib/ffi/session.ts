/** The Session wrapper: one lmr_session handle (KV cache + state for its sequences). */
import { check } from "./check.ts";
import { DTYPES } from "./constants.ts";
import { nameOf } from "./_name_of.ts";
import { assertOpen, checkInt } from "./_handles.ts";
import { GENERATE_STATS, SAMPLER_PARAMS, SESSION_INFO } from "./structs.ts";
import type { GenerateResult, ModelOwner, SamplerOptions, SessionInfo } from "./types.ts";
export type { GenerateResult, GenerateStats, SamplerOptions, SessionInfo } from "./types.ts";

type Tokens = Int32Array | readonly number[];

function tokenBuffer(name: string, tokens: Tokens): Int32Array<ArrayBuffer> {
  const out = new Int32Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t)) throw new TypeError(`${name}[${i}] must be an integer, got ${t}`);
    out[i] = t;
  }
  return out;
}

/**
 * A KV cache and state for up to maxSeqs sequences, created by {@link Model.createSession}.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * using engine = Engine.create({ backend: "cpu", threads: 1 });
 * using model = await engine.synthesize("tiny-qwen2", { seed: 1 });
 * using session = model.createSession({ maxCtx: 256 });
 * const r = await session.generate(0, [1, 2, 3], 8);
 * console.log(r.tokens, r.stats.ttftNs);
 * ```
 */
export class Session {
  #ptr: Deno.PointerValue;
  readonly model: ModelOwner;
  readonly #onClose: () => void;

  /** @internal Use Model.createSession. */
  constructor(model: ModelOwner, ptr: Deno.PointerValue, onClose: () => void) {
    this.model = model;
    this.#ptr = ptr;
    this.#onClose = onClose;
  }

  get #lib() {
    return this.model.engine.library;
  }

  #check(status: number, what: string): void {
    check(this.#lib, status, this.model.engine.pointer, what);
  }

  /** The raw handle. */
  get pointer(): Deno.PointerObject {
    assertOpen(this.#ptr, "the session");
    return this.#ptr;
  }

  /** Sizes of the KV pool. */
  info(): SessionInfo {
    const buf = new Uint8Array(this.#lib.symbols.lmr_session_info_default());
    this.#check(
      this.#lib.symbols.lmr_session_info_get(this.pointer, buf),
      "Cannot read session info",
    );
    const v = SESSION_INFO.read(buf) as Record<string, number>;
    return {
      maxSeqs: v.max_seqs,
      maxCtx: v.max_ctx,
      kvDtype: nameOf(DTYPES, v.kv_dtype),
      blockTokens: v.block_tokens,
      blocks: v.n_blocks,
      freeBlocks: v.free_blocks,
      prefillChunk: v.prefill_chunk,
      kvBytes: v.kv_bytes,
      kvBytesPerToken: v.kv_bytes_per_token,
    };
  }

  /** Append tokens to sequence seq and compute the last one's logits. */
  async prefill(seq: number, tokens: Tokens): Promise<void> {
    const buf = tokenBuffer("tokens", tokens);
    const status = await this.#lib.symbols.lmr_session_prefill(this.pointer, seq, buf, buf.length);
    this.#check(status, `Cannot prefill sequence ${seq}`);
  }

  /** One decode step: append tokens[i] to seqs[i] for every i. */
  async decode(seqs: Tokens, tokens: Tokens): Promise<void> {
    if (seqs.length !== tokens.length) {
      throw new RangeError(`seqs has ${seqs.length} entries but tokens has ${tokens.length}`);
    }
    const s = tokenBuffer("seqs", seqs), t = tokenBuffer("tokens", tokens);
    const status = await this.#lib.symbols.lmr_session_decode(this.pointer, s, t, s.length);
    this.#check(status, `Cannot decode ${s.length} sequence(s)`);
  }

  /** Logits of the last token of seq (length vocab). */
  logits(seq: number): Float32Array {
    const vocab = this.model.info().vocab;
    const out = new Float32Array(vocab);
    const status = this.#lib.symbols.lmr_session_logits(this.pointer, seq, out, vocab);
    this.#check(status, `Cannot read the logits of sequence ${seq}`);
    return out;
  }

  /** Tokens held by seq. */
  seqLen(seq: number): number {
    const out = new Int32Array(1);
    this.#check(
      this.#lib.symbols.lmr_session_seq_len(this.pointer, seq, out),
      `Cannot read the length of sequence ${seq}`,
    );
    return out[0];
  }

  /** Forget seq's tokens and free its KV blocks. */
  reset(seq: number): void {
    this.#check(
      this.#lib.symbols.lmr_session_reset(this.pointer, seq),
      `Cannot reset sequence ${seq}`,
    );
  }

  /** Put seq at position pos with random KV data (as if pos tokens had been prefilled). */
  async fillKv(seq: number, pos: number, seed = 0): Promise<void> {
    checkInt("seed", seed, 0, Number.MAX_SAFE_INTEGER);
    const status = await this.#lib.symbols.lmr_session_fill_kv(
      this.pointer,
      seq,
      pos,
      BigInt(seed),
    );
    this.#check(status, `Cannot fill the KV cache of sequence ${seq} to position ${pos}`);
  }

  /** Sample seq's next token from its current logits. */
  sample(seq: number, sampler: SamplerOptions = {}): number {
    const out = new Int32Array(1);
    const status = this.#lib.symbols.lmr_session_sample(
      this.pointer,
      seq,
      this.#sampler(sampler),
      out,
    );
    this.#check(status, `Cannot sample sequence ${seq}`);
    return out[0];
  }

  /**
   * The native generate loop on one sequence: prefill, then decode until nGen tokens exist,
   * with the engine's per-step times.
   * @throws {EngineError} E.g. LMR_ERR_OUT_OF_RANGE for a token id >= vocab.
   */
  async generate(
    seq: number,
    prompt: Tokens,
    nGen: number,
    sampler: SamplerOptions = {},
  ): Promise<GenerateResult> {
    checkInt("nGen", nGen, 1);
    const sym = this.#lib.symbols;
    const p = tokenBuffer("prompt", prompt);
    const tokens = new Int32Array(nGen);
    const steps = new BigUint64Array(nGen);
    const statsBuf = new Uint8Array(sym.lmr_generate_stats_default());
    const status = await sym.lmr_session_generate(
      this.pointer,
      seq,
      p,
      p.length,
      nGen,
      this.#sampler(sampler),
      tokens,
      steps,
      statsBuf,
    );
    this.#check(status, `Cannot generate ${nGen} tokens on sequence ${seq}`);
    const v = GENERATE_STATS.read(statsBuf) as Record<string, number>;
    return {
      tokens: [...tokens],
      stepNs: Array.from(steps, Number),
      stats: {
        ttftNs: v.ttft_ns,
        prefillNs: v.prefill_ns,
        decodeNs: v.decode_ns,
        sampleNs: v.sample_ns,
        totalNs: v.total_ns,
        promptTokens: v.n_prompt,
        generatedTokens: v.n_generated,
      },
    };
  }

  #sampler(o: SamplerOptions): Uint8Array<ArrayBuffer> {
    const buf = new Uint8Array(this.#lib.symbols.lmr_sampler_params_default());
    const p: Record<string, number> = {};
    if (o.temperature !== undefined) p.temperature = o.temperature;
    if (o.topK !== undefined) p.top_k = o.topK;
    if (o.topP !== undefined) p.top_p = o.topP;
    if (o.seed !== undefined) p.seed = o.seed;
    SAMPLER_PARAMS.write(buf, p);
    return buf;
  }

  /** Destroy the session. Idempotent. */
  close(): void {
    if (this.#ptr === null) return;
    this.#lib.symbols.lmr_session_destroy(this.#ptr);
    this.#ptr = null;
    this.#onClose();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
