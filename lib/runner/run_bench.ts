/** A whole bench run: engine, model, probes, runner, record checkpoints, final record. */
import { captureEnvironment } from "../env/capture_environment.ts";
import { gitState } from "../env/git_state.ts";
import { engineCommitWarning } from "../env/engine_commit_warning.ts";
import { modelContentHash } from "../env/model_content_hash.ts";
import type { BackendName, ExecutorName } from "../ffi/constants.ts";
import { Engine, type EngineInfo } from "../ffi/engine.ts";
import type { Library } from "../ffi/load_library.ts";
import type { Model, ModelInfo } from "../ffi/model.ts";
import { newRecordId } from "../results/new_record_id.ts";
import type { DtypeName, ResultRecord } from "../results/types.ts";
import { SCHEMA_NAME, SCHEMA_VERSION } from "../results/types.ts";
import { writeRecord } from "../results/write_record.ts";
import type { Case, Derived } from "../results/types.ts";
import type {
  CacheSweepScenario,
  GridScenario,
  PromptsScenario,
  ResolvedScenario,
  WorkersScenario,
} from "../scenario/types.ts";
import { chooseDefaultModel } from "./choose_default_model.ts";
import { deriveGridFigures } from "./derive_grid_figures.ts";
import { probeBandwidth } from "./probe_bandwidth.ts";
import { runCacheSweep } from "./run_cache_sweep.ts";
import { runGrid } from "./run_grid.ts";
import { runPrompts } from "./run_prompts.ts";
import { runWorkers } from "./run_workers.ts";
import type { ProgressEvent, RunnerOptions, Tokenize } from "./types.ts";

/** Everything a bench run needs. */
export interface BenchOptions {
  scenario: ResolvedScenario;
  /** Model spec; default the scenario's, else chooseDefaultModel. */
  model?: string;
  backend: BackendName;
  executor: ExecutorName;
  threads?: number;
  profile: boolean;
  runner: RunnerOptions;
  /** Record path; default results/<scenario>-<backend>-<stamp>.json under `resultsDir`. */
  out?: string;
  resultsDir: string;
  /** The command line, for the record. */
  command: string[];
  toolVersion: string;
  library?: Library;
  /** Bandwidth probe buffer, bytes (default: see probeBandwidth). */
  probeBytes?: number;
  log?: (message: string) => void;
  onProgress?: (e: ProgressEvent) => void;
  shouldStop?: () => boolean;
  /** Builds a tokenizer for the model spec (only called when a case gives a prompt text). */
  tokenizerFor?: (modelSpec: string) => Promise<Tokenize>;
}

function runnerInfo(r: RunnerOptions): ResultRecord["runner"] {
  const { maxRuns: _maxRuns, ...rest } = r;
  return rest;
}

const size = (v: number, unit: string) =>
  v >= 1e9 ? `${(v / 1e9).toFixed(2)} G${unit}` : `${(v / 1e6).toFixed(2)} M${unit}`;

const DTYPE_NAMES: Record<string, DtypeName> = { bf16: "bf16", f16: "f16", f32: "f32" };

async function openModel(engine: Engine, spec: string, seed: number): Promise<Model> {
  if (spec.startsWith("synthetic:")) return await engine.synthesize(spec.slice(10), { seed });
  try {
    if (!Deno.statSync(spec).isDirectory) {
      throw new Error(`Cannot load model "${spec}": not a folder`);
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot load model "${spec}": folder not found (use a Hugging Face folder or synthetic:PRESET)`,
      );
    }
    throw e;
  }
  return await engine.load(spec);
}

/** What every kind runner gets from {@link runBench}: the open engine, model and probes. */
export interface KindContext {
  options: BenchOptions;
  engine: Engine;
  model: Model;
  engineInfo: EngineInfo;
  modelInfo: ModelInfo;
  /** The model spec actually used (CLI, scenario or default). */
  modelSpec: string;
  /** Median measured read bandwidth, bytes/s. */
  bandwidthBps: number;
  /** The record being written; a kind runner may fill in `engine` fields it knows better. */
  record: ResultRecord;
  /** Rewrite the record with these cases (status "running"). */
  checkpoint: (cases: Case[]) => Promise<void>;
  /** A fresh engine and model on the same backend with another executor (same spec and seed). */
  openEngine: (executor: ExecutorName) => Promise<{ engine: Engine; model: Model }>;
  log: (message: string) => void;
}

/** What a kind runner hands back to {@link runBench}. */
export interface KindOutcome {
  cases: Case[];
  derived: Record<string, Derived>;
  warnings: string[];
  interrupted: boolean;
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
  const outcome = await runGrid(
    {
      engine: ctx.engine,
      session,
      vocab: mi.vocab,
      decodeBytes: mi.decodeBytes,
      kvBytesPerToken: si.kvBytesPerToken,
      bandwidthBps: ctx.bandwidthBps,
      probeBps: async () => {
        const m = await probeBandwidth(ctx.engine, ctx.options.probeBytes, 3);
        const probes = ctx.record.environment.probes;
        (probes.bandwidthDuringBps ??= []).push(...m.samples);
        return m.summary.max;
      },
    },
    scenario,
    o.runner,
    { onProgress: o.onProgress, shouldStop: o.shouldStop, tokenize, onCheckpoint: ctx.checkpoint },
  );
  const during = ctx.record.environment.probes.bandwidthDuringBps ?? [];
  const derived = deriveGridFigures(outcome.cases, {
    bandwidthBps: Math.max(ctx.bandwidthBps, ...during), // the best seen, as the last case used
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
 * Run a scenario end to end and write its record: create the engine, open the model, probe
 * bandwidth and launch overhead, write the record skeleton, then hand over to the runner of the
 * scenario's kind (grid, cache-sweep, workers, prompts), which rewrites the record atomically
 * after each case with status "running"; finally write the cases, derived figures and warnings
 * it returns with status "complete", or "interrupted" when shouldStop turned true.
 *
 * @param o Options.
 * @returns The record and its path.
 * @throws {EngineError} When the engine fails.
 * @throws {Error} When the model cannot be found or the scenario kind has no runner yet.
 * @example
 * ```ts ignore
 * const { record, path } = await runBench({ scenario, backend: "cpu", ... });
 * ```
 */
export async function runBench(o: BenchOptions): Promise<{ record: ResultRecord; path: string }> {
  const scenario = o.scenario;
  if (!["grid", "cache-sweep", "workers", "prompts"].includes(scenario.kind)) {
    throw new Error(
      `Cannot run scenario "${scenario.file}": the ${scenario.kind} runner is not implemented yet ` +
        `(grid, cache-sweep, workers and prompts scenarios run in this version)`,
    );
  }
  const log = o.log ?? (() => {});
  const createdAt = new Date();
  const id = newRecordId(createdAt);
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
  const bandwidth = await probeBandwidth(engine, o.probeBytes);
  const launch = await engine.probeLaunch(1000);
  // The host's bandwidth moves between probes (seen: 30 and 46 GB/s a minute apart), and a limit
  // below what the machine delivered would flatter every utilisation figure: limits use the best
  // sample, the ceiling the machine showed it can reach, and the run probes again at the end.
  const ceilingBps = bandwidth.summary.max;
  log(
    `read bandwidth: ${(bandwidth.summary.median / 1e9).toFixed(1)} GB/s median, ${
      (ceilingBps / 1e9).toFixed(1)
    } best of ${bandwidth.summary.n} (limits use the best)`,
  );
  const git = await gitState();
  const backendName = info.backend as "cpu" | "cuda" | "metal";
  const stamp = id.slice(0, 16);
  const path = o.out ?? `${o.resultsDir}/${scenario.name}-${backendName}-${stamp}.json`;
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
      dtype: DTYPE_NAMES[mi.dtype] ?? "bf16",
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
      `The bandwidth probe is noisy (CV ${
        (bandwidth.summary.cv * 100).toFixed(0)
      }%); limits are uncertain`,
    );
  }

  await writeRecord(path, record);

  const outcome = await runKind({
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
      await writeRecord(path, record);
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
  record.cases = outcome.cases;
  record.warnings.push(...outcome.warnings);
  if (!outcome.interrupted) {
    const after = await probeBandwidth(engine, o.probeBytes);
    record.environment.probes.bandwidthAfterBps = after;
    const seenBps = Math.max(ceilingBps, ...(record.environment.probes.bandwidthDuringBps ?? []));
    if (after.summary.max > seenBps * 1.05) {
      record.warnings.push(
        `Read bandwidth rose during the run (best ${(seenBps / 1e9).toFixed(1)} GB/s before, ` +
          `${(after.summary.max / 1e9).toFixed(1)} GB/s after): limits use the first figure, ` +
          `so utilisation may be overstated`,
      );
    }
  }
  record.derived = outcome.derived;
  record.status = outcome.interrupted ? "interrupted" : "complete";
  await writeRecord(path, record);
  return { record, path };
}
