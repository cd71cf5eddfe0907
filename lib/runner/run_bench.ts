/** A whole bench run: engine, model, probes, runner, record checkpoints, final record. */
import { driftWarnings } from "./drift_warnings.ts";
import { captureEnvironment } from "../env/capture_environment.ts";
import { gitState } from "../env/git_state.ts";
import { engineCommitWarning } from "../env/engine_commit_warning.ts";
import { modelContentHash } from "../env/model_content_hash.ts";
import type { ExecutorName } from "../ffi/constants.ts";
import { Engine } from "../ffi/engine.ts";
import type { Model } from "../ffi/model.ts";
import { checkOutPath } from "../results/check_out_path.ts";
import { newRecordId } from "../results/new_record_id.ts";
import type { DtypeName, ResultRecord, WeightDtypeName } from "../results/types.ts";
import { SCHEMA_NAME, SCHEMA_VERSION } from "../results/types.ts";
import { writeRecord } from "../results/write_record.ts";
import type {
  CacheSweepScenario,
  GridScenario,
  PromptsScenario,
  WorkersScenario,
} from "../scenario/types.ts";
import { checkTargets } from "./check_targets.ts";
import { openRunTargets } from "./open_run_targets.ts";
import { targetWarnings } from "./target_warnings.ts";
import { chooseDefaultModel } from "./choose_default_model.ts";
import { deriveGridFigures } from "./derive_grid_figures.ts";
import { probeBandwidth } from "./probe_bandwidth.ts";
import { runHttpBench } from "../http/run_http_bench.ts";
import { runCacheSweep } from "./run_cache_sweep.ts";
import { type GridTarget, runGrid } from "./run_grid.ts";
import { runPrompts } from "./run_prompts.ts";
import { runWorkers } from "./run_workers.ts";
import type { BenchOptions, KindContext, KindOutcome, RunnerOptions } from "./types.ts";

export type { BenchOptions } from "./types.ts";

function runnerInfo(r: RunnerOptions): ResultRecord["runner"] {
  return { ...r };
}

/** Bandwidth probe passes before the cases; their median is the run's one ceiling. */
const PROBE_REPS = 9;

const size = (v: number, unit: string) =>
  v >= 1e9 ? `${(v / 1e9).toFixed(2)} G${unit}` : `${(v / 1e6).toFixed(2)} M${unit}`;

const DTYPE_NAMES: Record<string, DtypeName> = { bf16: "bf16", f16: "f16", f32: "f32" };
const WEIGHT_DTYPE_NAMES: Record<string, WeightDtypeName> = {
  ...DTYPE_NAMES,
  q8_0: "q8_0",
  q4_K: "q4_K",
  q6_K: "q6_K",
};

async function openModel(engine: Engine, spec: string, seed: number): Promise<Model> {
  if (spec.startsWith("synthetic:")) return await engine.synthesize(spec.slice(10), { seed });
  try {
    if (!Deno.statSync(spec).isDirectory && !spec.endsWith(".gguf")) {
      throw new Error(`Cannot load model "${spec}": not a folder or a .gguf file`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot load model "${spec}": not found (use a Hugging Face folder, a .gguf file or synthetic:PRESET)`,
      );
    }
    throw e;
  }
  return await engine.load(spec);
}

async function gridKind(ctx: KindContext, scenario: GridScenario & { maxCtx: number }) {
  const { options: o, modelInfo: mi, record } = ctx;
  const longest = scenario.cases.reduce(
    (a, c) => (c.promptTokens + c.decodeTokens > a.promptTokens + a.decodeTokens ? c : a),
  );
  if (longest.promptTokens + longest.decodeTokens > mi.maxPositions) {
    throw new RangeError(
      `Cannot run case ${longest.id} of "${o.scenario.file}": it needs ` +
        `${longest.promptTokens + longest.decodeTokens} positions but model ${mi.name} allows ` +
        `${mi.maxPositions} (max_position_embeddings)`,
    );
  }
  const maxCtx = Math.min(scenario.maxCtx, mi.maxPositions);
  using session = ctx.model.createSession({ maxSeqs: 1, maxCtx });
  const si = session.info();
  record.model.kvBytesPerToken = si.kvBytesPerToken;
  Object.assign(record.engine, {
    kvDtype: DTYPE_NAMES[si.kvDtype] ?? "f32",
    maxCtx: si.maxCtx,
    maxSeqs: si.maxSeqs,
    prefillChunk: si.prefillChunk,
  });
  const needsText = scenario.cases.some((c) => c.prompt !== undefined);
  const tokenize = needsText && o.tokenizerFor ? await o.tokenizerFor(ctx.modelSpec) : undefined;
  const run = await openRunTargets(ctx, {
    kind: "grid",
    maxSeqs: 1,
    maxCtx,
    lmrig: { engine: ctx.engine, model: ctx.model, session },
  });
  const targets: GridTarget[] = run.targets;
  let outcome;
  try {
    record.environment.targets = run.environment;
    const vocab = Math.min(mi.vocab, ...targets.map((t) => t.target.model().vocab));
    outcome = await runGrid(
      { targets, vocab, bandwidthBps: ctx.bandwidthBps },
      scenario,
      o.runner,
      {
        onProgress: o.onProgress,
        shouldStop: o.shouldStop,
        tokenize,
        onCheckpoint: ctx.checkpoint,
      },
    );
    outcome.warnings.unshift(...run.warnings);
    outcome.warnings.push(...targetWarnings(run.targets));
  } finally {
    run.close();
  }
  // Run-level figures are lmrig's (its load time, its decode bytes).
  const lmrigCases = outcome.cases.filter((c) => (c.target ?? "lmrig") === "lmrig");
  const derived = deriveGridFigures(lmrigCases, {
    bandwidthBps: ctx.bandwidthBps,
    decodeBytes: mi.decodeBytes,
    loadNs: mi.loadNs,
  });
  return { ...outcome, derived };
}

function runKind(ctx: KindContext): Promise<KindOutcome> {
  const scenario = ctx.options.scenario;
  switch (scenario.kind) {
    case "grid":
      return gridKind(ctx, scenario);
    case "cache-sweep":
      return runCacheSweep(ctx, scenario as CacheSweepScenario & { maxCtx: number });
    case "workers":
      return runWorkers(ctx, scenario as WorkersScenario & { maxCtx: number });
    case "prompts":
      return runPrompts(ctx, scenario as PromptsScenario & { maxCtx: number; file: string });
    default: {
      const kind = (scenario as { kind: string }).kind;
      throw new Error(`Cannot run scenario "${ctx.options.scenario.file}": unknown kind "${kind}"`);
    }
  }
}

/**
 * Run a scenario end to end and write its record: check the output path, create the engine,
 * open the model, probe bandwidth (the median of the pre-run samples is the run's one ceiling,
 * `environment.probes.ceilingBps`) and launch overhead, then hand over to the runner of the
 * scenario's kind (grid, cache-sweep, workers, prompts). With `o.http` the run goes to an
 * OpenAI-compatible server instead (runHttpBench, lib/http) and no engine is created. Nothing is written before the first
 * case completes, so a scenario that does not fit the model leaves no record behind. Progress
 * (status "running") is saved after each case: at the output path when it holds no record yet,
 * else beside it (`<name>.partial.json`), so a run that does not complete never replaces an
 * earlier record with one holding less. The final record has status "complete" (written at the
 * output path), "interrupted" when shouldStop turned true, or "failed" with the error when the
 * engine or the runner failed after at least one case (the error is then thrown again).
 *
 * @param o Options.
 * @returns The record and its path.
 * @throws {TypeError} When the output path cannot take the record (checked before the engine
 *   starts).
 * @throws {EngineError} When the engine fails (the record, if any case completed, says "failed").
 * @throws {Error} When the model cannot be found or the scenario kind has no runner yet.
 * @example
 * ```ts ignore
 * const { record, path } = await runBench({ scenario, backend: "cpu", ... });
 * ```
 */
export async function runBench(o: BenchOptions): Promise<{ record: ResultRecord; path: string }> {
  if (o.http) return await runHttpBench(o, o.http); // the engine is on the server (lib/http)
  const scenario = o.scenario;
  if (!["grid", "cache-sweep", "workers", "prompts"].includes(scenario.kind)) {
    throw new Error(
      `Cannot run scenario "${scenario.file}": the ${scenario.kind} runner is not implemented yet ` +
        `(grid, cache-sweep, workers and prompts scenarios run in this version)`,
    );
  }
  // Refused before the engine starts: an unknown target or a capability the kind needs.
  checkTargets(o.targets ?? scenario.targets ?? ["lmrig"], scenario.kind);
  const log = o.log ?? (() => {});
  const createdAt = new Date();
  const id = newRecordId(createdAt);
  const stamp = id.slice(0, 16);
  // Checked before the engine starts: a bad --out costs seconds, not a whole run.
  const outPath = checkOutPath(
    o.out ?? `${o.resultsDir}/${scenario.name}-${o.backend}-${stamp}.json`,
    o.out !== undefined ? "--out" : "the record",
  );
  const engineOptions = (executor: ExecutorName) => ({
    backend: o.backend,
    executor,
    threads: o.threads,
    profile: o.profile,
    library: o.library,
  });
  using engine = Engine.create(engineOptions(o.executor));
  const info = engine.info();
  let spec = o.model ?? scenario.model;
  if (spec === undefined) {
    const choice = chooseDefaultModel(info.backend, info.cores);
    spec = choice.spec;
    log(`model: ${spec} (${choice.reason})`);
  }
  const modelSpec = spec;
  using model = await openModel(engine, spec, o.runner.seed);
  const mi = model.info();
  const simd = info.simdName || "scalar";
  log(
    `engine: ${info.backend}/${info.executor}, ${info.threads} thread(s), ${simd}; model ` +
      `${mi.name}: ${size(mi.params, "")} params, ${size(mi.weightBytes, "B")} ${mi.dtype}`,
  );
  const bandwidth = await probeBandwidth(engine, o.probeBytes, PROBE_REPS);
  const launch = await engine.probeLaunch(1000);
  // One ceiling for the whole record: the median of the pre-run samples, robust to one fast or
  // slow pass; every limit and share uses it, and the after-run probe only checks for drift.
  const ceilingBps = bandwidth.summary.median;
  log(
    `read bandwidth ceiling: ${(ceilingBps / 1e9).toFixed(1)} GB/s (median of ` +
      `${bandwidth.summary.n} probe passes, ${(bandwidth.summary.min / 1e9).toFixed(1)}-` +
      `${(bandwidth.summary.max / 1e9).toFixed(1)}); every limit uses it`,
  );
  const git = await gitState();
  const backendName = info.backend as "cpu" | "cuda" | "metal";
  const path = outPath;
  let existing = false;
  try {
    existing = Deno.statSync(path).isFile;
  } catch { /* a new path */ }
  // Progress never replaces an earlier record: it goes beside it until the run completes.
  const progressPath = existing ? path.replace(/(\.json)?$/, ".partial.json") : path;
  const { file: _file, ...resolved } = scenario;
  const record: ResultRecord = {
    schema: SCHEMA_NAME,
    schemaVersion: SCHEMA_VERSION,
    id,
    createdAt: createdAt.toISOString(),
    status: "running",
    tool: {
      name: "lmrig",
      version: o.toolVersion,
      gitCommit: git.commit,
      gitDirty: git.dirty,
      abiVersion: engine.library.abiVersion,
      libraryVersion: engine.library.version,
      deno: Deno.version.deno,
      command: o.command,
    },
    environment: captureEnvironment(info, {
      bandwidthBps: bandwidth,
      launchEagerNs: launch.eagerNs,
      launchGraphNs: launch.graphNs,
    }),
    model: {
      spec,
      name: mi.name,
      arch: mi.arch,
      dtype: WEIGHT_DTYPE_NAMES[mi.dtype] ?? "bf16",
      weightTypes: mi.weightTypes,
      synthetic: mi.synthetic,
      seed: mi.synthetic ? mi.seed : null,
      // Hashed after the load was timed, so hashing never warms the page cache for the load.
      contentHash: mi.synthetic ? null : await modelContentHash(spec),
      params: mi.params,
      weightBytes: mi.weightBytes,
      decodeBytes: mi.decodeBytes,
      kvBytesPerToken: mi.kvBytesPerToken,
      config: {
        layers: mi.layers,
        hidden: mi.hidden,
        heads: mi.heads,
        kvHeads: mi.kvHeads,
        headDim: mi.headDim,
        ffn: mi.ffn,
        vocab: mi.vocab,
        maxPositions: mi.maxPositions,
        tieEmbeddings: mi.tieEmbeddings,
        ropeTheta: mi.ropeTheta,
        rmsEps: mi.rmsEps,
      },
      loadNs: mi.loadNs,
    },
    engine: {
      backend: backendName,
      executor: info.executor,
      threads: info.threads,
      kvDtype: "f32",
      maxCtx: scenario.maxCtx,
      maxSeqs: 1,
      prefillChunk: 0,
      profile: o.profile,
    },
    scenario: {
      kind: scenario.kind,
      name: scenario.name,
      file: scenario.file,
      description: scenario.description,
      resolved,
    },
    runner: runnerInfo(o.runner),
    cases: [],
    derived: {},
    warnings: [engineCommitWarning(info, git)].filter((w): w is string => w !== null),
  };
  if (info.executor !== o.executor) {
    record.warnings.push(
      `Executor "${o.executor}" was asked for; the ${info.backend} backend runs "${info.executor}"`,
    );
  }
  if (bandwidth.summary.cv > 0.1) {
    record.warnings.push(
      `The bandwidth probe is noisy (CV ${(bandwidth.summary.cv * 100).toFixed(0)}%, ` +
        `${(bandwidth.summary.min / 1e9).toFixed(1)}-${(bandwidth.summary.max / 1e9).toFixed(1)} ` +
        `GB/s): limits and shares are uncertain by as much`,
    );
  }
  record.environment.probes.ceilingBps = ceilingBps;

  let saved = false;
  let outcome: KindOutcome;
  try {
    outcome = await runKind({
      options: o,
      engine,
      model,
      engineInfo: info,
      modelInfo: mi,
      modelSpec,
      bandwidthBps: ceilingBps,
      record,
      checkpoint: async (cases) => {
        record.cases = cases;
        if (cases.length === 0) return;
        await writeRecord(progressPath, record);
        saved = true;
      },
      openEngine: async (executor) => {
        const e = Engine.create(engineOptions(executor));
        try {
          return { engine: e, model: await openModel(e, modelSpec, o.runner.seed) };
        } catch (err) {
          e.close();
          throw err;
        }
      },
      log,
    });
  } catch (e) {
    // Cases that completed are kept, with the error; nothing is written when none did (the
    // scenario was refused before measuring, and an earlier record at the path stays).
    if (saved || record.cases.length > 0) {
      record.status = "failed";
      record.error = e instanceof Error ? e.message : String(e);
      record.warnings.push(`The run failed after ${record.cases.length} case(s): ${record.error}`);
      await writeRecord(progressPath, record);
      log(`record: ${progressPath} (failed, ${record.cases.length} case(s) kept)`);
    } else if (progressPath !== path) await Deno.remove(progressPath).catch(() => {});
    throw e;
  }
  Object.assign(record.runner, outcome.ran ?? {});
  record.cases = outcome.cases;
  record.warnings.push(...outcome.warnings);
  if (!outcome.interrupted) {
    const after = await probeBandwidth(engine, o.probeBytes, PROBE_REPS);
    record.environment.probes.bandwidthAfterBps = after;
    record.warnings.push(
      ...driftWarnings(ceilingBps, after.summary.median, scenario.kind, record.runner.interleave),
    );
  }
  record.derived = outcome.derived;
  record.status = outcome.interrupted ? "interrupted" : "complete";
  if (record.status === "complete") {
    await writeRecord(path, record);
    if (progressPath !== path) await Deno.remove(progressPath).catch(() => {});
    return { record, path };
  }
  if (record.cases.length === 0 && progressPath !== path) {
    return { record, path: progressPath }; // nothing measured: the earlier record stays as it was
  }
  await writeRecord(progressPath, record);
  return { record, path: progressPath };
}
