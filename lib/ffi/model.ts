/** The Model wrapper: one lmr_model handle, its facts, saving and session creation. */
import { check } from "./check.ts";
import { DTYPES, WEIGHT_DTYPES } from "./constants.ts";
import { nameOf } from "./_name_of.ts";
import { assertOpen, checkInt, cString, outPointer, readPointer } from "./_handles.ts";
import { Session } from "./session.ts";
import { MODEL_INFO, SESSION_PARAMS } from "./structs.ts";
import type { EngineOwner, ModelInfo, SessionOptions } from "./types.ts";
export type { ModelInfo, SessionOptions } from "./types.ts";

/**
 * Weights owned by an engine; created by {@link Engine.synthesize} or {@link Engine.load}.
 * Closing it closes its sessions first.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * using engine = Engine.create({ backend: "cpu", threads: 1 });
 * using model = await engine.synthesize("tiny-llama", { seed: 7 });
 * using session = model.createSession({ maxCtx: 512 });
 * ```
 */
export class Model {
  #ptr: Deno.PointerValue;
  readonly engine: EngineOwner;
  readonly #onClose: () => void;
  readonly #sessions = new Set<Session>();

  /** @internal Use Engine.synthesize or Engine.load. */
  constructor(engine: EngineOwner, ptr: Deno.PointerValue, onClose: () => void) {
    this.engine = engine;
    this.#ptr = ptr;
    this.#onClose = onClose;
  }

  /** The raw handle. */
  get pointer(): Deno.PointerObject {
    assertOpen(this.#ptr, "the model");
    return this.#ptr;
  }

  /** Shape, sizes and provenance of the weights. */
  info(): ModelInfo {
    const lib = this.engine.library;
    const buf = new Uint8Array(lib.symbols.lmr_model_info_default());
    const status = lib.symbols.lmr_model_info_get(this.pointer, buf);
    check(lib, status, this.engine.pointer, "Cannot read model info");
    const v = MODEL_INFO.read(buf) as Record<string, number> & Record<string, string>;
    return {
      layers: v.n_layers,
      hidden: v.hidden,
      heads: v.n_heads,
      kvHeads: v.n_kv_heads,
      headDim: v.head_dim,
      ffn: v.ffn,
      vocab: v.vocab,
      maxPositions: v.max_pos,
      tieEmbeddings: v.tie_embeddings !== 0,
      dtype: nameOf(WEIGHT_DTYPES, v.dtype),
      synthetic: v.synthetic !== 0,
      ropeTheta: v.rope_theta,
      rmsEps: v.rms_eps,
      params: v.n_params,
      weightBytes: v.weight_bytes,
      decodeBytes: v.decode_bytes,
      kvBytesPerToken: v.kv_bytes_per_token,
      seed: v.seed,
      loadNs: v.load_ns,
      arch: v.arch,
      name: v.name,
      weightTypes: v.weight_types,
    };
  }

  /** Write the model as a Hugging Face folder (config.json + model.safetensors). */
  async save(dir: string): Promise<void> {
    const lib = this.engine.library;
    const status = await lib.symbols.lmr_model_save(this.pointer, cString(dir));
    check(lib, status, this.engine.pointer, `Cannot save model to "${dir}"`);
  }

  /**
   * Create a session (KV cache for up to maxSeqs sequences).
   * @throws {EngineError} LMR_ERR_OUT_OF_MEMORY when the KV pool would not fit.
   */
  createSession(options: SessionOptions = {}): Session {
    const lib = this.engine.library;
    const params = new Uint8Array(lib.symbols.lmr_session_params_default());
    const p: Record<string, number> = {};
    if (options.maxSeqs !== undefined) p.max_seqs = options.maxSeqs;
    if (options.maxCtx !== undefined) p.max_ctx = options.maxCtx;
    if (options.prefillChunk !== undefined) p.prefill_chunk = options.prefillChunk;
    if (options.blockTokens !== undefined) p.block_tokens = options.blockTokens;
    for (const [k, v] of Object.entries(p)) checkInt(k, v, 0);
    if (options.kvDtype !== undefined) {
      if (!(options.kvDtype in DTYPES)) {
        throw new RangeError(`Unknown KV dtype "${options.kvDtype}": expected bf16, f16 or f32`);
      }
      p.kv_dtype = DTYPES[options.kvDtype];
    }
    SESSION_PARAMS.write(params, p);
    const out = outPointer();
    const status = lib.symbols.lmr_session_create(this.pointer, params, out);
    check(lib, status, this.engine.pointer, "Cannot create a session");
    const session = new Session(this, readPointer(out), () => this.#sessions.delete(session));
    this.#sessions.add(session);
    return session;
  }

  /** Destroy the model, closing its sessions first. Idempotent. */
  close(): void {
    if (this.#ptr === null) return;
    for (const s of [...this.#sessions]) s.close();
    this.engine.library.symbols.lmr_model_destroy(this.#ptr);
    this.#ptr = null;
    this.#onClose();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
