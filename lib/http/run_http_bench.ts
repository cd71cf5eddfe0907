/**
 * A whole bench run against an OpenAI-compatible HTTP target (`--target http://HOST:PORT/v1`):
 * resolve the target (model name from /v1/models when not given), run the scenario's kind
 * (workers or prompts) with the load generator, and write a record whose `http` section says
 * how the server was reached. No engine is loaded here: the engine is on the server.
 */
import { gitState } from "../env/git_state.ts";
import { checkOutPath } from "../results/check_out_path.ts";
import { newRecordId } from "../results/new_record_id.ts";
import {
  type Case,
  type Environment,
  type ResultRecord,
  SCHEMA_NAME,
  SCHEMA_VERSION,
} from "../results/types.ts";
import { writeRecord } from "../results/write_record.ts";
import type { BenchOptions } from "../runner/types.ts";
import type { PromptsScenario, WorkersScenario } from "../scenario/types.ts";
import type { TextTokenizer } from "../tokenizer/types.ts";
import type { HttpKindContext, HttpKindOutcome, HttpSettings } from "./_http_context.ts";
import { httpPrompts } from "./_http_prompts.ts";
import { httpWorkers } from "./_http_workers.ts";
import { runHttpLoad } from "./run_http_load.ts";
import { DEFAULT_TIMEOUTS, type HttpTargetOptions } from "./types.ts";

export type { HttpTargetOptions } from "./types.ts";

async function serverModels(base: string, timeoutMs: number, apiKey?: string): Promise<string[]> {
  const res = await fetch(`${base.replace(/\/+$/, "")}/models`, {
    signal: AbortSignal.timeout(timeoutMs),
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`HTTP ${res.status}`);
  }
  const body = await res.json();
  return Array.isArray(body?.data) ? body.data.map((m: { id: unknown }) => String(m.id)) : [];
}

function cpuName(): string {
  try {
    const m = /model name\s*:\s*(.+)/.exec(Deno.readTextFileSync("/proc/cpuinfo"));
    return m?.[1].trim() ?? "";
  } catch {
    return "";
  }
}

/**
 * Run a workers or prompts scenario against an HTTP target and write its record. Endpoints are
 * checked (http: or https: URLs) and the API key variable read before anything is sent; the
 * model name comes from /v1/models when not given. The record has `engine.backend` "http", the
 * `http` section (endpoints, API, model name, the key's variable name, isolates, timeouts,
 * SLOs, arrival process, tokenizer), `environment.targets[0]` describing the target, and per
 * case the figures of lib/http (httpRunFigures) with one row per measured request. A run that
 * the user stops is written with status "interrupted".
 *
 * @param o The bench options (scenario, runner settings, output, hooks; `model` names the
 *   tokenizer used to count tokens when a server sends no usage).
 * @param target The endpoints and client settings.
 * @returns The record and its path.
 * @throws {TypeError} On a bad endpoint URL, a missing API key variable, or an unusable --out.
 * @throws {Error} When the scenario kind cannot run over HTTP, or no model name can be found.
 * @example
 * ```ts ignore
 * const { record } = await runHttpBench(options, { endpoints: ["http://127.0.0.1:8000/v1"] });
 * record.cases[0].metrics.ttftNs.summary.p99;
 * ```
 */
export async function runHttpBench(
  o: BenchOptions,
  target: HttpTargetOptions,
): Promise<{ record: ResultRecord; path: string }> {
  const scenario = o.scenario;
  if (scenario.kind !== "workers" && scenario.kind !== "prompts") {
    throw new Error(
      `Cannot run scenario "${scenario.file}" over HTTP: its kind is ${scenario.kind}; the HTTP ` +
        `target runs workers and prompts scenarios (scenarios/workers.ts, scenarios/latency.ts)`,
    );
  }
  if (target.endpoints.length === 0) throw new TypeError("No HTTP endpoint given");
  for (const e of target.endpoints) {
    let u: URL | undefined;
    try {
      u = new URL(e);
    } catch { /* reported below */ }
    if (!u || (u.protocol !== "http:" && u.protocol !== "https:")) {
      throw new TypeError(`Bad HTTP target "${e}": expected http://HOST:PORT/v1`);
    }
  }
  let apiKey: string | undefined;
  if (target.apiKeyEnv !== undefined) {
    apiKey = Deno.env.get(target.apiKeyEnv);
    if (!apiKey) {
      throw new TypeError(
        `Cannot read the API key: environment variable ${target.apiKeyEnv} is not set`,
      );
    }
  }
  const log = o.log ?? (() => {});
  const createdAt = new Date();
  const id = newRecordId(createdAt);
  const outPath = checkOutPath(
    o.out ?? `${o.resultsDir}/${scenario.name}-http-${id.slice(0, 16)}.json`,
    o.out !== undefined ? "--out" : "the record",
  );
  const sh = scenario.http ?? {};
  const t = sh.timeoutsMs ?? {};
  const timeouts = {
    connectMs: t.connect ?? DEFAULT_TIMEOUTS.connectMs,
    firstTokenMs: t.firstToken ?? DEFAULT_TIMEOUTS.firstTokenMs,
    idleMs: t.idle ?? DEFAULT_TIMEOUTS.idleMs,
    totalMs: t.total ?? DEFAULT_TIMEOUTS.totalMs,
  };
  const warnings: string[] = [];
  let models: string[] = [];
  try {
    models = await serverModels(target.endpoints[0], timeouts.connectMs, apiKey);
  } catch (e) {
    if (target.modelName === undefined) {
      throw new Error(
        `Cannot pick a model name: ${target.endpoints[0]}/models did not answer ` +
          `(${(e as Error).message}); pass --model-name`,
      );
    }
    warnings.push(`/v1/models did not answer (${(e as Error).message})`);
  }
  const modelName = target.modelName ?? models[0];
  if (modelName === undefined) {
    throw new Error(`Cannot pick a model name: ${target.endpoints[0]}/models lists none`);
  }
  const http: HttpSettings = {
    endpoints: target.endpoints,
    api: target.api ?? null,
    modelName,
    apiKey,
    apiKeyEnv: target.apiKeyEnv ?? null,
    isolates: target.isolates ?? sh.isolates ?? 1,
    timeouts,
    slo: target.slo ?? sh.slo,
    arrival: sh.arrival ?? "poisson",
    durationMs: sh.durationS !== undefined ? sh.durationS * 1000 : undefined,
    maxConcurrency: sh.maxConcurrency,
    exactTokens: sh.exactTokens ?? null,
    dataset: target.dataset !== undefined ? { path: target.dataset } : sh.dataset,
  };
  let tokenizer: TextTokenizer | undefined;
  const spec = o.model ?? scenario.model;
  if (o.model !== undefined) {
    const { loadTokenizer } = await import("../tokenizer/load_tokenizer.ts");
    tokenizer = await loadTokenizer(o.model);
    log(`tokenizer: ${tokenizer.name} (counts tokens when a server sends no usage)`);
  }
  log(
    `target: ${http.endpoints.join(", ")} (model "${modelName}", ${http.isolates} load ` +
      `isolate(s))`,
  );
  const git = await gitState();
  const { file: _file, ...resolved } = scenario;
  let memoryBytes = 0;
  try {
    memoryBytes = Deno.systemMemoryInfo().total;
  } catch { /* needs --allow-sys */ }
  const environment = {
    targets: [{
      name: "http",
      version: "",
      build: "",
      libraryPath: http.endpoints.join(","),
      threads: 0,
      backend: "http",
      kvFill: "prefill",
      settings: {
        api: http.api ?? (scenario.kind === "workers" ? "completions" : "chat"),
        modelName,
        endpoints: http.endpoints.length,
        isolates: http.isolates,
      },
      extra: { serverModels: models.join(",") },
      model: {
        arch: "",
        layers: 0,
        vocab: tokenizer?.vocabSize ?? 0,
        weightBytes: 0,
        dtype: "unknown",
        source: modelName,
        contentHash: null,
      },
    }],
    os: Deno.build.os,
    osRelease: Deno.osRelease(),
    arch: Deno.build.arch,
    cpu: { name: cpuName(), cores: navigator.hardwareConcurrency, simd: [], simdUsed: "" },
    memoryBytes,
    gpu: null,
    buildFlags: "",
    // The client measures no bandwidth: the engine is on the server.
    probes: { ceilingBps: 0, launchEagerNs: 0, launchGraphNs: 0 },
  } as unknown as Environment;
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
      abiVersion: 0,
      libraryVersion: "",
      deno: Deno.version.deno,
      command: o.command,
    },
    environment,
    model: {
      spec: modelName,
      name: modelName,
      arch: "",
      dtype: "unknown",
      synthetic: false,
      seed: null,
      contentHash: null,
      params: 0,
      weightBytes: 0,
      decodeBytes: 0,
      kvBytesPerToken: 0,
      config: {},
      loadNs: 0,
    },
    engine: {
      backend: "http",
      executor: "eager",
      threads: 0,
      kvDtype: "f32",
      maxCtx: scenario.maxCtx,
      maxSeqs: 0,
      prefillChunk: 0,
      profile: false,
    },
    scenario: {
      kind: scenario.kind,
      name: scenario.name,
      file: scenario.file,
      description: scenario.description,
      resolved,
    },
    // The workers kind always interleaves its cases (as the in-process runner does).
    runner: { ...o.runner, interleave: o.runner.interleave || scenario.kind === "workers" },
    cases: [],
    derived: {},
    warnings,
    http: {
      endpoints: http.endpoints,
      api: http.api ?? (scenario.kind === "workers" ? "completions" : "chat"),
      modelName,
      apiKeyEnv: http.apiKeyEnv,
      isolates: http.isolates,
      timeoutsMs: {
        connect: timeouts.connectMs,
        firstToken: timeouts.firstTokenMs,
        idle: timeouts.idleMs,
        total: timeouts.totalMs,
      },
      exactTokens: http.exactTokens ?? scenario.kind === "workers",
      ...(http.slo ? { slo: http.slo } : {}),
      arrival: http.arrival,
      durationS: sh.durationS ?? null,
      maxConcurrency: http.maxConcurrency ?? null,
      tokenizer: tokenizer ? spec ?? null : null,
      ...(http.dataset ? { dataset: http.dataset.path } : {}),
      serverModels: models,
    },
  };
  let existing = false;
  try {
    existing = Deno.statSync(outPath).isFile;
  } catch { /* a new path */ }
  const progressPath = existing ? outPath.replace(/(\.json)?$/, ".partial.json") : outPath;
  const ac = new AbortController();
  const poll = setInterval(() => {
    if (o.shouldStop?.()) ac.abort();
  }, 50);
  const ctx: HttpKindContext = {
    options: o,
    http,
    tokenizer,
    log,
    stopped: () => ac.signal.aborted || (o.shouldStop?.() ?? false),
    signal: ac.signal,
    checkpoint: async (cases: Case[]) => {
      if (cases.length === 0) return;
      record.cases = cases;
      await writeRecord(progressPath, record);
    },
    load: async (plan) => {
      const run = await runHttpLoad({
        ...plan,
        endpoints: http.endpoints,
        model: modelName,
        apiKey,
        timeouts,
        isolates: http.isolates,
      }, ac.signal);
      for (const r of run.requests) {
        if (r.text === undefined) continue;
        if (tokenizer) {
          r.outputTokens = tokenizer.encode(r.text, { addSpecialTokens: false }).length;
          r.tokenSource = "tokenizer";
          if (r.honoured !== null) {
            r.honoured = r.outputTokens === plan.maxTokens[r.index % plan.maxTokens.length];
          }
        }
        delete r.text;
      }
      return run;
    },
  };
  let outcome: HttpKindOutcome;
  try {
    outcome = scenario.kind === "workers"
      ? await httpWorkers(ctx, scenario as WorkersScenario)
      : await httpPrompts(ctx, scenario as PromptsScenario);
  } catch (e) {
    if (record.cases.length > 0) {
      record.status = "failed";
      record.error = e instanceof Error ? e.message : String(e);
      await writeRecord(progressPath, record);
    }
    throw e;
  } finally {
    clearInterval(poll);
  }
  record.cases = outcome.cases;
  record.warnings.push(...outcome.warnings);
  const sources = new Set(
    outcome.cases.flatMap((c) =>
      Object.keys(c.counters).filter((k) => k.startsWith("tokens.")).map((k) => k.slice(7))
    ),
  );
  if (sources.has("chunks")) {
    record.warnings.push(
      "Some responses had no usage block and no tokenizer was given (--model): their output " +
        "tokens are the count of streamed chunks (exact only for servers sending one token per chunk)",
    );
  }
  const cores = Math.max(1, Math.min(http.isolates, navigator.hardwareConcurrency));
  for (const c of outcome.cases) {
    const busy = c.metrics.clientCpuCores?.summary.max ?? 0;
    if (busy > 0.8 * cores) {
      record.warnings.push(
        `${c.id}: the load generator kept ${busy.toFixed(2)} core(s) busy (of ${cores} it can ` +
          `use): it may have limited the load; raise --client-isolates or check the machine`,
      );
    }
  }
  record.status = outcome.interrupted ? "interrupted" : "complete";
  if (record.status === "complete") {
    await writeRecord(outPath, record);
    if (progressPath !== outPath) await Deno.remove(progressPath).catch(() => {});
    return { record, path: outPath };
  }
  if (record.cases.length === 0 && progressPath !== outPath) return { record, path: progressPath };
  await writeRecord(progressPath, record);
  return { record, path: progressPath };
}
