/**
 * `deno task bench [scenario.ts] [options]`: run a scenario on the engine, write a result record
 * under results/ and print the report tables. See --help and docs/usage.md.
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { BENCH_USAGE, type BenchArgs, parseBenchArgs } from "../lib/cli/parse_bench_args.ts";
import { Progress } from "../lib/cli/progress.ts";
import { renderCacheSweepReport } from "../lib/cli/render_cache_sweep_report.ts";
import { type BackendName, BACKENDS } from "../lib/ffi/constants.ts";
import { loadLibrary } from "../lib/ffi/load_library.ts";
import type { ResultRecord } from "../lib/results/types.ts";
import { cacheSweepBackends } from "../lib/runner/cache_sweep_backends.ts";
import { repoRoot } from "../lib/env/repo_root.ts";
import { findLibrary } from "../lib/ffi/find_library.ts";
import { checkOutPath } from "../lib/results/check_out_path.ts";
import { formatRecord } from "../lib/results/format_record.ts";
import { resolveRunnerOptions } from "../lib/runner/resolve_runner_options.ts";
import { runBench } from "../lib/runner/run_bench.ts";
import { loadScenario } from "../lib/scenario/load_scenario.ts";
import { buildNative } from "./build.ts";

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(Deno.args);
  } catch (e) {
    console.error(`${(e as Error).message}`);
    return 2;
  }
  if (args.help) {
    console.log(BENCH_USAGE);
    return 0;
  }
  const scenario = await loadScenario(args.scenario);
  if (args.out !== undefined) checkOutPath(args.out, "--out"); // before any build or load
  // A cache sweep's runs are its measured steps per position (the scenario's `steps`).
  const scenarioRuns = scenario.kind === "cache-sweep" ? scenario.steps : scenario.runs;
  const runner = resolveRunnerOptions({
    warmup: args.warmup ?? (args.quick ? 1 : scenario.warmup),
    runs: args.runs ?? (args.quick ? 2 : scenarioRuns),
    minRuns: args.minRuns,
    maxRuns: args.maxRuns,
    minTimeMs: args.minTimeMs,
    targetCv: args.targetCv,
    interleave: args.interleave,
    cooldownMs: args.cooldownMs,
    seed: args.seed,
  });

  if (!args.http && !Deno.env.get("LMRIG_LIB") && !existsSync(findLibrary())) {
    console.error(`${findLibrary()} is missing: building the engine (deno task build) ...`);
    await buildNative({ quiet: true });
  }

  const progress = new Progress();
  let stopRequested = false;
  let firstSigintMs = 0;
  const onSignal = () => {
    // `deno task` forwards the terminal's SIGINT to this process, which also gets it directly:
    // a second signal within a second is the same Ctrl-C, not a request to abort. An abort
    // writes nothing, so the record on disk stays whatever the last completed case left.
    if (stopRequested) {
      if (performance.now() - firstSigintMs > 1000) Deno.exit(130);
      return;
    }
    stopRequested = true;
    firstSigintMs = performance.now();
    progress.note("Stopping after the current run; Ctrl-C again to abort without saving");
  };
  // SIGTERM (kill, CI timeouts) and SIGHUP (a closed terminal) stop the run like Ctrl-C does.
  const signals: Deno.Signal[] = Deno.build.os === "windows"
    ? ["SIGINT"]
    : ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  const deno = join(repoRoot(), "deno.json");
  const toolVersion = JSON.parse(Deno.readTextFileSync(deno)).version ?? "0.0.0";
  try {
    // A cache sweep runs once per backend (one record each); other kinds on the one asked for.
    let backends: BackendName[] = [args.backend];
    if (scenario.kind === "cache-sweep" && !args.http) {
      const lib = loadLibrary();
      const pick = cacheSweepBackends(
        scenario.backends,
        args.backend,
        (b) => lib.symbols.lmr_backend_available(BACKENDS[b]) === 1,
      );
      if (pick.skipped.length > 0) {
        progress.note(`cache sweep: ${pick.skipped.join(", ")} not available here, skipped`);
      }
      backends = pick.run;
    }
    const outFor = (backend: BackendName) =>
      args.out !== undefined && backends.length > 1
        ? args.out.replace(/(\.json)?$/, `-${backend}.json`)
        : args.out;
    // Every output path is checked before the first model loads.
    for (const b of backends) {
      const out = outFor(b);
      if (out !== undefined) checkOutPath(out, "--out");
    }
    const records: ResultRecord[] = [];
    for (const backend of backends) {
      const out = outFor(backend);
      const { record, path } = await runBench({
        scenario,
        model: args.model,
        backend,
        executor: args.executor,
        threads: args.threads,
        targets: args.targets,
        llamaLib: args.llamaLib,
        llamaBackend: args.llamaBackend,
        quants: args.quants,
        http: args.http,
        profile: args.profile,
        runner,
        out,
        resultsDir: join(repoRoot(), "results"),
        command: ["deno", "task", "bench", ...Deno.args],
        toolVersion,
        log: (m) => progress.note(m),
        onProgress: (e) => progress.update(e),
        shouldStop: () => stopRequested,
        tokenizerFor: async (spec) => {
          const { loadTokenizer } = await import("../lib/tokenizer/mod.ts");
          const tok = await loadTokenizer(spec);
          return (text: string) => tok.encode(text);
        },
      });
      progress.done();
      const shown = relative(Deno.cwd(), path).startsWith("..") ? path : relative(Deno.cwd(), path);
      if (scenario.kind !== "cache-sweep" || args.format !== "md") {
        Deno.stdout.writeSync(new TextEncoder().encode(formatRecord(record, args.format)));
      }
      console.error(`record: ${shown} (${record.status})`);
      records.push(record);
      if (record.status !== "complete") break;
    }
    if (scenario.kind === "cache-sweep" && args.format === "md") {
      Deno.stdout.writeSync(new TextEncoder().encode(renderCacheSweepReport(records)));
    }
    return records.every((r) => r.status === "complete") ? 0 : 130;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error(
      e instanceof Error ? `${e.name === "Error" ? "" : e.name + ": "}${e.message}` : String(e),
    );
    Deno.exit(1);
  }
}
