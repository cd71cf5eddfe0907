/** The lmrig target: lmrig's own engine through lib/ffi, behind the {@link Target} interface. */
import { Engine, type EngineOptions, type Model, type Session } from "../ffi/mod.ts";
import type { DtypeOption } from "../ffi/constants.ts";
import type { Capability, Target, TargetCounters, TargetFacts, TargetModelInfo } from "./types.ts";

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

const CAPS: readonly Capability[] = [
  "prefill-timed",
  "step-timed",
  "batched-decode",
  "kv-fill-random",
  "per-step-times",
  "counters",
  "peak-memory",
  "executors",
  "sampling",
  "logits",
];

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
  const m = model, s = session;
  const info = s.info();
  const last = () => engine.counters().lastCallNs;
  let closed = false;
  const target: Target = {
    name: "lmrig",
    capabilities: new Set(CAPS),
    maxSeqs: info.maxSeqs,
    maxCtx: info.maxCtx,
    facts(): TargetFacts {
      const e = engine.info();
      return {
        name: "lmrig",
        version: engine.library.version,
        build: e.buildFlags,
        libraryPath: engine.library.path,
        threads: e.threads,
        backend: e.backend,
        kvFill: "random",
        settings: {
          executor: e.executor,
          kvDtype: info.kvDtype,
          maxSeqs: info.maxSeqs,
          maxCtx: info.maxCtx,
          prefillChunk: info.prefillChunk,
          simd: e.simdName,
        },
        extra: { abiVersion: engine.library.abiVersion, device: e.deviceName || e.cpuName },
      };
    },
    model(): TargetModelInfo {
      const mi = m.info();
      return {
        arch: mi.arch,
        layers: mi.layers,
        vocab: mi.vocab,
        weightBytes: mi.weightBytes,
        dtype: mi.dtype,
        source: options.model,
      };
    },
    prefill: async (seq, tokens) => {
      await s.prefill(seq, Array.from(tokens));
      return last();
    },
    decode: async (seqs, tokens) => {
      await s.decode(Array.from(seqs), Array.from(tokens));
      return last();
    },
    logits: (seq) => s.logits(seq),
    sample: (seq) => {
      const token = s.sample(seq);
      return { token, ns: last() };
    },
    fillKv: async (seq, pos, seed = 0) => {
      await s.fillKv(seq, pos, seed);
      return last();
    },
    seqLen: (seq) => s.seqLen(seq),
    reset: (seq) => s.reset(seq),
    counters(): TargetCounters {
      const c = engine.counters();
      return {
        prefillNs: c.prefillNs,
        decodeNs: c.decodeNs,
        prefillTokens: c.prefillTokens,
        decodeTokens: c.decodeTokens,
        peakBytes: c.peakBytes,
      };
    },
    warnings: () => [],
    close() {
      if (closed) return;
      closed = true;
      m.close();
      if (ownEngine) engine.close();
    },
    [Symbol.dispose]() {
      target.close();
    },
  };
  return target;
}
