/** Shared set-up of the end-to-end tests: a tiny grid on the tiny synthetic model, CPU. */
import { resolveRunnerOptions } from "../lib/runner/resolve_runner_options.ts";
import type { BenchOptions } from "../lib/runner/run_bench.ts";
import { validateScenario } from "../lib/scenario/validate_scenario.ts";

/** A three-case grid small enough for tiny-qwen2 (max 512 positions). */
export function tinyGrid() {
  return validateScenario({
    kind: "grid",
    name: "tiny-grid",
    cases: [
      { id: "T1", promptTokens: 8, decodeTokens: 6 },
      { id: "T2", promptTokens: 32, decodeTokens: 12 },
      { id: "T3", promptTokens: 96, decodeTokens: 4 },
    ],
  }, "tests/_tiny.ts");
}

/** Bench options for a fast CPU run writing into `dir`. */
export function tinyBench(dir: string, extra: Partial<BenchOptions> = {}): BenchOptions {
  return {
    scenario: tinyGrid(),
    model: "synthetic:tiny-qwen2",
    backend: "cpu",
    executor: "eager",
    threads: 1,
    profile: false,
    runner: resolveRunnerOptions({ warmup: 1, runs: 3, seed: 5 }),
    out: `${dir}/record.json`,
    resultsDir: dir,
    command: ["test"],
    toolVersion: "0.0.0-test",
    probeBytes: 32 * 2 ** 20,
    ...extra,
  };
}
