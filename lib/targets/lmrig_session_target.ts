/** The lmrig target over an engine, model and session the caller already holds. */
import type { Engine, Model, Session } from "../ffi/mod.ts";
import type {
  Capability,
  Target,
  TargetCounters,
  TargetFacts,
  TargetGenerate,
  TargetModelInfo,
} from "./types.ts";

/** What lmrig can do (docs/targets.md). */
export const LMRIG_CAPABILITIES: readonly Capability[] = [
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
 * Wrap an open lmrig engine, model and session as a {@link Target}; closing the target calls
 * `onClose` (the caller decides what it owns). Every time it returns is the engine counter
 * `lastCallNs`; `generate` is the engine's native loop with its per-step times.
 *
 * @param engine The engine.
 * @param model A model of that engine.
 * @param session A session of that model.
 * @param source Where the weights came from, for `model().source`.
 * @param onClose Called once by `close()`.
 * @returns The target.
 * @throws Nothing itself; engine calls throw EngineError.
 * @example
 * ```ts
 * import { Engine } from "../ffi/mod.ts";
 * import { lmrigSessionTarget } from "./lmrig_session_target.ts";
 * using engine = Engine.create({ backend: "cpu", threads: 1 });
 * using model = await engine.synthesize("tiny-qwen2", { seed: 1 });
 * using session = model.createSession({ maxCtx: 64 });
 * using t = lmrigSessionTarget(engine, model, session, "tiny-qwen2", () => {});
 * const r = await t.generate!(0, [1, 2, 3], 4);
 * if (r.stepNs.length !== 4 || t.seqLen(0) !== 6) throw new Error("unexpected");
 * ```
 */
export function lmrigSessionTarget(
  engine: Engine,
  model: Model,
  session: Session,
  source: string,
  onClose: () => void,
): Target {
  const m = model, s = session;
  const info = s.info();
  const last = () => engine.counters().lastCallNs;
  let closed = false;
  const target: Target = {
    name: "lmrig",
    capabilities: new Set(LMRIG_CAPABILITIES),
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
        weightTypes: mi.weightTypes,
        source: source,
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
    generate: async (seq, prompt, nGen): Promise<TargetGenerate> => {
      s.reset(seq);
      engine.resetCounters();
      const r = await s.generate(seq, prompt, nGen);
      const c = engine.counters() as unknown as Record<string, number>;
      const counters: Record<string, number> = {};
      for (const [k, v] of Object.entries(c)) if (typeof v === "number") counters[k] = v;
      return {
        stepNs: r.stepNs,
        ttftNs: r.stats.ttftNs,
        prefillNs: r.stats.prefillNs,
        totalNs: r.stats.totalNs,
        promptTokens: r.stats.promptTokens,
        generatedTokens: r.stats.generatedTokens,
        counters,
      };
    },
    close() {
      if (closed) return;
      closed = true;
      onClose();
    },
    [Symbol.dispose]() {
      target.close();
    },
  };
  return target;
}
