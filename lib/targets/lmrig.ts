/** The lmrig target: lmrig's own engine through lib/ffi, behind the {@link Target} interface. */
import { Engine, type EngineOptions, type Model, type Session } from "../ffi/mod.ts";
import type { DtypeOption } from "../ffi/constants.ts";
import type { Target } from "./types.ts";
import { lmrigSessionTarget } from "./lmrig_session_target.ts";

/** Options of {@link openLmrigTarget}. */
export interface LmrigTargetOptions {
  /** A preset name, a config.json path (synthesised) or a Hugging Face folder (loaded). */
  model: string;
  /** Load `model` as a Hugging Face folder instead of synthesising it. */
  load?: boolean;
  /** Synthesis only: weight dtype, seed and layer count. */
  dtype?: DtypeOption;
  seed?: number;
  layers?: number;
  backend?: EngineOptions["backend"];
  threads?: number;
  executor?: EngineOptions["executor"];
  /** Sequences the KV cache holds (default 1). */
  maxSeqs?: number;
  /** Tokens per sequence (default the engine's). */
  maxCtx?: number;
  kvDtype?: DtypeOption;
  prefillChunk?: number;
  /** An engine to reuse (its library and device); it stays open after close. */
  engine?: Engine;
}

/**
 * Open lmrig as a target: an engine, a model and a session of `maxSeqs` sequences. Every time it
 * returns is the engine's own `lastCallNs` (measured inside the library after device sync).
 *
 * @param options The model and the engine/session settings.
 * @returns The target; close it (or `using`) to free the engine.
 * @throws {EngineError} When the engine, model or session cannot be created.
 * @example
 * ```ts
 * import { openLmrigTarget } from "./lmrig.ts";
 * using t = await openLmrigTarget({ model: "tiny-qwen2", seed: 1, threads: 1, maxCtx: 64 });
 * const ns = await t.prefill(0, [1, 2, 3]);
 * const { token } = t.sample(0);
 * await t.decode([0], [token]);
 * if (!(ns > 0) || t.seqLen(0) !== 4) throw new Error("unexpected");
 * ```
 */
export async function openLmrigTarget(options: LmrigTargetOptions): Promise<Target> {
  const ownEngine = options.engine === undefined;
  const engine = options.engine ??
    Engine.create({
      backend: options.backend ?? "cpu",
      threads: options.threads,
      executor: options.executor,
    });
  let model: Model | undefined;
  let session: Session;
  try {
    model = options.load
      ? await engine.load(options.model)
      : await engine.synthesize(options.model, {
        dtype: options.dtype,
        seed: options.seed,
        layers: options.layers,
      });
    session = model.createSession({
      maxSeqs: options.maxSeqs ?? 1,
      maxCtx: options.maxCtx,
      kvDtype: options.kvDtype,
      prefillChunk: options.prefillChunk,
    });
  } catch (e) {
    model?.close();
    if (ownEngine) engine.close();
    throw e;
  }
  const m = model;
  return lmrigSessionTarget(engine, model, session, options.model, () => {
    m.close();
    if (ownEngine) engine.close();
  });
}
