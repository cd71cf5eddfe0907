/** llama-bench's two tests on a target: pp (one prompt prefill) and tg (one-token decodes). */
import type { Target } from "../targets/types.ts";

/** Sizes and repetitions of {@link measurePpTg}. */
export interface PpTgOptions {
  /** Prompt tokens of the pp test (0: no pp test). */
  pp: number;
  /** Generated tokens of the tg test (0: no tg test). */
  tg: number;
  /** Measured repetitions of each test (one warm-up run before them, as llama-bench does). */
  reps: number;
  /** Seed of the random token ids. */
  seed?: number;
}

/** Tokens/s of every measured repetition. */
export interface PpTgSamples {
  pp: number[];
  tg: number[];
}

/**
 * Measure a target the way `llama-bench` does, on sequence 0: pp = one prefill of `pp` random
 * tokens into an empty context, tg = `tg` single-token calls of random tokens from an empty
 * context (the first a one-token prefill, then decodes; no sampling, as llama-bench), each timed by the target's engine-timed calls; t/s is
 * tokens over the summed engine time. One warm-up of each test first.
 *
 * @param target The target (sequence 0 is reset before every repetition).
 * @param o Sizes, repetitions and seed.
 * @returns Tokens/s per repetition of each test.
 * @throws {RangeError} On sizes that are not integers >= 0, reps < 1, or a context too small.
 * @example
 * ```ts
 * import { measurePpTg } from "./measure_pp_tg.ts";
 * import { openLmrigTarget } from "../targets/lmrig.ts";
 * using t = await openLmrigTarget({ model: "tiny-qwen2", seed: 1, threads: 1, maxCtx: 64 });
 * const r = await measurePpTg(t, { pp: 16, tg: 8, reps: 2 });
 * if (r.pp.length !== 2 || r.tg.length !== 2 || !(r.tg[0] > 0)) throw new Error("unexpected");
 * ```
 */
export async function measurePpTg(target: Target, o: PpTgOptions): Promise<PpTgSamples> {
  for (const [k, v] of [["pp", o.pp], ["tg", o.tg]] as const) {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`Cannot measure pp/tg: ${k} must be an integer >= 0, got ${v}`);
    }
  }
  if (!Number.isInteger(o.reps) || o.reps < 1) {
    throw new RangeError(`Cannot measure pp/tg: reps must be an integer >= 1, got ${o.reps}`);
  }
  if (Math.max(o.pp, o.tg) > target.maxCtx) {
    throw new RangeError(
      `Cannot measure pp/tg: ${Math.max(o.pp, o.tg)} tokens exceed the target's context of ` +
        `${target.maxCtx}`,
    );
  }
  const vocab = target.model().vocab;
  let x = (o.seed ?? 1) >>> 0 || 1;
  const next = () => {
    x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
    return (x >>> 0) % vocab;
  };
  const out: PpTgSamples = { pp: [], tg: [] };
  for (let rep = 0; rep <= o.reps; rep++) {
    if (o.pp > 0) {
      target.reset(0);
      const tokens = Array.from({ length: o.pp }, next);
      const ns = await target.prefill(0, tokens);
      if (rep > 0) out.pp.push(o.pp * 1e9 / ns);
    }
    if (o.tg > 0) {
      target.reset(0);
      // The warm-up of tg is one token, as llama-bench's.
      const n = rep === 0 ? 1 : o.tg;
      let ns = 0;
      // The first token goes in as a one-token prefill (for llama.cpp the same one-token
      // llama_decode as llama-bench's; lmrig decodes only sequences that hold tokens).
      ns += await target.prefill(0, [next()]);
      for (let i = 1; i < n; i++) ns += await target.decode([0], [next()]);
      if (rep > 0) out.tg.push(o.tg * 1e9 / ns);
    }
  }
  target.reset(0);
  return out;
}
