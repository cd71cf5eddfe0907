/** The cache-sweep runner (being written). */
import type { CacheSweepScenario } from "../scenario/types.ts";
import type { KindContext, KindOutcome } from "./run_bench.ts";

/**
 * Time single decode steps at KV-cache positions.
 *
 * @param _ctx The open engine and record.
 * @param scenario The resolved sweep.
 * @returns Cases, derived figures and warnings.
 * @throws {Error} Not implemented yet.
 * @example
 * ```ts ignore
 * await runCacheSweep(ctx, scenario);
 * ```
 */
export function runCacheSweep(
  _ctx: KindContext,
  scenario: CacheSweepScenario & { maxCtx: number },
): Promise<KindOutcome> {
  return Promise.reject(
    new Error(`The cache-sweep runner is not implemented yet (${scenario.name})`),
  );
}
