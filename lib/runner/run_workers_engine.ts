/** Adapts an engine session to the scheduler's calls, timing each with the engine's counters. */
import type { Engine } from "../ffi/engine.ts";
import type { SamplerOptions, Session } from "../ffi/session.ts";
import type { ServeEngine } from "./run_workers_load.ts";

/**
 * The {@link ServeEngine} of a session: every call is followed by a read of the engine's
 * counters, whose `lastCallNs` is the call's own wall time measured inside the engine (after
 * device sync), so no FFI or JS time enters it. `usedBlocks` reads the session's free KV blocks.
 *
 * @param engine The engine that owns the session (its counters time the calls).
 * @param session The session whose sequence slots the scheduler uses.
 * @param sampler Sampling settings (default greedy).
 * @returns The adapter.
 * @example
 * ```ts ignore
 * const run = await runWorkersLoad(sessionServeEngine(engine, session), requests, options);
 * ```
 */
export function sessionServeEngine(
  engine: Engine,
  session: Session,
  sampler: SamplerOptions = {},
): ServeEngine {
  const blocks = session.info().blocks;
  return {
    prefill: async (seq, tokens) => {
      await session.prefill(seq, tokens);
      return engine.counters().lastCallNs;
    },
    decode: async (seqs, tokens) => {
      await session.decode(seqs, tokens);
      return engine.counters().lastCallNs;
    },
    sample: (seq) => {
      const token = session.sample(seq, sampler);
      return { token, ns: engine.counters().lastCallNs };
    },
    reset: (seq) => session.reset(seq),
    usedBlocks: () => blocks - session.info().freeBlocks,
  };
}
