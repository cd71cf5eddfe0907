/** Command-line options of `deno task bench`. */
import { parseArgs } from "node:util";
import type { BackendName, ExecutorName } from "../ffi/constants.ts";
import type { HttpTargetOptions } from "../http/types.ts";
import { RECORD_FORMATS, type RecordFormat } from "../results/format_record.ts";
import { LLAMA_BACKENDS } from "../targets/llama_cpp/llama_package_for.ts";

/** Parsed bench options (undefined: take the scenario's or the runner's default). */
export interface BenchArgs {
  scenario: string;
  model?: string;
  backend: BackendName;
  executor: ExecutorName;
  threads?: number;
  /** --target a,b: the targets every case runs on, in order (default: the scenario's). */
  targets?: string[];
  /** --llama-lib DIR: a user's llama.cpp build instead of the npm prebuilt. */
  llamaLib?: string;
  /** --llama-backend NAME: cpu, cuda, vulkan or metal (which npm package of llama.cpp). */
  llamaBackend?: string;
  /** --quant a,b: weight variants every target runs (llama.cpp's quantiser names, lower case). */
  quants?: string[];
  /** --target http://HOST:PORT/v1[,...] and its options: an OpenAI-compatible server. */
  http?: HttpTargetOptions;
  warmup?: number;
  runs?: number;
  minRuns?: number;
  maxRuns?: number;
  minTimeMs?: number;
  targetCv?: number;
  interleave: boolean;
  cooldownMs?: number;
  seed: number;
  out?: string;
  format: RecordFormat;
  quick: boolean;
  profile: boolean;
  help: boolean;
}

/** The --help text. */
export const BENCH_USAGE = `Usage: deno task bench [scenario.ts] [options]

Runs a scenario (default scenarios/s1-s6.ts) on the lmrig engine, writes a result record
(results/<scenario>-<backend>-<UTC stamp>.json) and prints the tables.

Options:
  --model SPEC        synthetic:PRESET (qwen2.5-0.5b, qwen2.5-1.5b, qwen2.5-3b, tinyllama-1.1b,
                      tiny-qwen2, tiny-llama), synthetic:path/config.json, or a Hugging Face
                      folder (config.json + *.safetensors). Default: the scenario's model, else
                      synthetic:qwen2.5-1.5b on a GPU and a smaller shape on the CPU (printed)
  --backend NAME      auto | cpu | cuda (default auto: cuda when built and present, else cpu;
                      a Mac gets the cpu backend with NEON kernels, there is no Metal backend)
  --executor NAME     eager | graph (default eager)
  --threads N         CPU threads, 0 = all cores (default 0)
  --target LIST       targets every case runs on, alternating within each case:
                      lmrig (default), llama.cpp, or lmrig,llama.cpp side by side (grid
                      scenarios; llama.cpp runs the same weights converted to GGUF)
                      or http://HOST:PORT/v1[,http://...]: an OpenAI-compatible server (vLLM,
                      SGLang, llama-server, lmrig serve; a list goes round-robin) running a
                      workers or prompts scenario (docs/serving.md)
  --llama-lib DIR     a llama.cpp build folder instead of the npm prebuilt ($LMRIG_LLAMA_LIB)
  --llama-backend B   llama.cpp's backend: cpu, cuda, vulkan or metal, i.e. which npm package
                      ($LMRIG_LLAMA_BACKEND; default metal on macOS arm64, else cpu)
  --quant LIST        weight variants each target runs, e.g. bf16,q8_0,q4_k_m (f32, f16, bf16,
                      q4_0, q8_0, q4_k_s, q4_k_m, q5_k_m, q6_k): quantised by llama.cpp's own
                      quantiser, cached next to the model's GGUF, each a target of its own
                      (llama.cpp:q4_k_m); lmrig runs only its own dtype for now
  --api-key-env NAME  HTTP: send the key in environment variable NAME as a Bearer token
  --model-name NAME   HTTP: the request's model field (default: the first of /v1/models)
  --api NAME          HTTP: completions | chat (default: workers completions with token-id
                      prompts, prompts scenarios chat)
  --client-isolates N HTTP: load-generating isolates (Deno workers; default 1)
  --slo LIST          HTTP: goodput SLOs in ms, e.g. ttft:500,tpot:50,e2e:5000
  --dataset PATH      HTTP workers: prompts from a JSONL/JSON/CSV dataset instead of random ids
  --warmup N          warm-up runs per case, reported apart (default 3)
  --runs N            measured runs per case (default 5; a cache sweep: steps per position,
                      default its scenario's steps, 10)
  --min-runs N        adaptive: at least N runs (default --runs)
  --max-runs N        adaptive: at most N runs
  --min-time-ms MS    adaptive: measure each case at least this long
  --target-cv X       adaptive: stop once the key figure's CV <= X (e.g. 0.02)
  --interleave        run the cases round-robin to spread drift
  --cooldown-ms MS    pause between runs
  --seed N            seed of the random prompt tokens and synthetic weights (default 0)
  --out PATH          where to write the record (default results/...): a new path or a
                      regular file, checked before the model loads; an earlier record there
                      is replaced only by a complete run
  --format FMT        stdout: md (tables, default) | json | csv | jsonl
  --quick             1 warm-up and 2 runs per case (a smoke run, not for publishing)
  --profile           time every kernel/op (GPU utilisation, kernel overhead; adds overhead)
  -h, --help          this text

Examples:
  deno task bench
  deno task bench scenarios/s1-s6.ts --backend cpu --threads 2 --quick
  deno task bench scenarios/s1-s6.ts --target lmrig,llama.cpp --backend cpu --quick
  deno task bench --model synthetic:qwen2.5-1.5b --backend cuda --executor graph
  deno task bench --model ~/models/Qwen2.5-1.5B-Instruct --runs 10 --interleave
  deno task bench --format csv > s1-s6.csv
  deno task bench scenarios/workers.ts --target http://127.0.0.1:8000/v1 --slo ttft:500,tpot:50`;

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new RangeError(`--${name} must be an integer >= ${min}, got "${v}"`);
  }
  return n;
}

function num(name: string, v: string | undefined, min: number, max = Infinity): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
    throw new RangeError(`--${name} must be a number in [${min}, ${max}], got "${v}"`);
  }
  return n;
}

function oneOf<T extends string>(name: string, v: string, options: readonly T[]): T {
  if (!options.includes(v as T)) {
    throw new RangeError(`--${name} must be one of ${options.join(", ")}, got "${v}"`);
  }
  return v as T;
}

/** --slo ttft:MS,tpot:MS,e2e:MS. */
function sloOf(v: string | undefined): HttpTargetOptions["slo"] {
  if (v === undefined) return undefined;
  const out: NonNullable<HttpTargetOptions["slo"]> = {};
  const keys = { ttft: "ttftMs", tpot: "tpotMs", e2e: "e2eMs", e2el: "e2eMs" } as const;
  for (const part of v.split(",")) {
    const [k, ms] = part.split(":").map((x) => x.trim());
    const key = keys[k as keyof typeof keys];
    const n = Number(ms);
    if (!key || ms === undefined || !(n > 0)) {
      throw new RangeError(`--slo must be a list of ttft:MS, tpot:MS, e2e:MS, got "${part}"`);
    }
    out[key] = n;
  }
  return out;
}

const isUrl = (x: string) => /^https?:\/\//i.test(x);

/** --target: a comma list of distinct known targets. */
function targetsOf(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const names = v.split(",").map((x) => x.trim());
  if (names.some(isUrl)) return undefined; // an HTTP target (httpOf)
  const known = ["lmrig", "llama.cpp"];
  for (const n of names) {
    if (!known.includes(n)) {
      throw new RangeError(`--target must list targets of ${known.join(", ")}, got "${n}"`);
    }
  }
  if (new Set(names).size !== names.length) {
    throw new RangeError(`--target must not name a target twice, got "${v}"`);
  }
  return names;
}

/** Weight variants --quant accepts (llama.cpp's quantiser names). */
const QUANTS = ["f32", "f16", "bf16", "q4_0", "q8_0", "q4_k_s", "q4_k_m", "q5_k_m", "q6_k"];

/** --quant: a comma list of distinct known variants, lower-cased. */
function quantsOf(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const names = v.split(",").map((x) => x.trim().toLowerCase());
  for (const n of names) {
    if (!QUANTS.includes(n)) {
      throw new RangeError(`--quant must list variants of ${QUANTS.join(", ")}, got "${n}"`);
    }
  }
  if (new Set(names).size !== names.length) {
    throw new RangeError(`--quant must not name a variant twice, got "${v}"`);
  }
  return names;
}

/** --backend: auto, cpu or cuda; "metal" gets its own answer (there is no Metal backend). */
function backendOf(v: string): BenchArgs["backend"] {
  if (v === "metal") {
    throw new RangeError(
      `--backend metal: lmrig has no Metal backend; on a Mac use --backend cpu (the CPU ` +
        `backend with its NEON kernels)`,
    );
  }
  return oneOf("backend", v, ["auto", "cpu", "cuda"] as const);
}

/**
 * Parse bench arguments. Unknown flags, missing values and bad numbers are errors that name
 * the option.
 *
 * @param args Command-line arguments (Deno.args).
 * @returns The options.
 * @throws {TypeError} On an unknown option or a missing value.
 * @throws {RangeError} On a bad value.
 * @example
 * ```ts
 * import { parseBenchArgs } from "./parse_bench_args.ts";
 * parseBenchArgs(["--quick", "--backend", "cpu"]).backend; // "cpu"
 * ```
 */
export function parseBenchArgs(args: string[]): BenchArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: "string" },
        backend: { type: "string", default: "auto" },
        executor: { type: "string", default: "eager" },
        threads: { type: "string" },
        target: { type: "string" },
        "llama-lib": { type: "string" },
        "llama-backend": { type: "string" },
        quant: { type: "string" },
        "api-key-env": { type: "string" },
        "model-name": { type: "string" },
        api: { type: "string" },
        "client-isolates": { type: "string" },
        slo: { type: "string" },
        dataset: { type: "string" },
        warmup: { type: "string" },
        runs: { type: "string" },
        "min-runs": { type: "string" },
        "max-runs": { type: "string" },
        "min-time-ms": { type: "string" },
        "target-cv": { type: "string" },
        interleave: { type: "boolean", default: false },
        "cooldown-ms": { type: "string" },
        seed: { type: "string", default: "0" },
        out: { type: "string" },
        format: { type: "string", default: "md" },
        quick: { type: "boolean", default: false },
        profile: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    const msg = (e as Error).message;
    const unknown = msg.match(/Unknown option '([^']+)'/);
    if (unknown) throw new TypeError(`Unknown option "${unknown[1]}"; see --help`);
    const missing = msg.match(/Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/);
    if (missing) throw new TypeError(`Option "${missing[1]}" needs a value; see --help`);
    throw new TypeError(`${msg}; see --help`);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length > 1) {
    throw new TypeError(
      `Expected at most one scenario file, got ${positionals.length}: ${positionals.join(" ")}`,
    );
  }
  const urls = v.target?.split(",").map((x) => x.trim()) ?? [];
  let http: HttpTargetOptions | undefined;
  if (urls.some(isUrl)) {
    const other = urls.find((x) => !isUrl(x));
    if (other !== undefined) {
      throw new RangeError(
        `--target cannot mix HTTP endpoints with engine targets, got "${other}" beside URLs`,
      );
    }
    http = {
      endpoints: urls,
      apiKeyEnv: v["api-key-env"],
      modelName: v["model-name"],
      api: v.api === undefined ? undefined : oneOf("api", v.api, ["completions", "chat"] as const),
      isolates: int("client-isolates", v["client-isolates"], 1),
      slo: sloOf(v.slo),
      dataset: v.dataset,
    };
    for (const k of Object.keys(http) as (keyof HttpTargetOptions)[]) {
      if (http[k] === undefined) delete http[k];
    }
  } else {
    for (
      const k of ["api-key-env", "model-name", "api", "client-isolates", "slo", "dataset"] as const
    ) {
      if (v[k] !== undefined) {
        throw new TypeError(`Option "--${k}" applies to an HTTP --target (http://HOST:PORT/v1)`);
      }
    }
  }
  return {
    http,
    scenario: positionals[0] ?? "scenarios/s1-s6.ts",
    model: v.model,
    backend: backendOf(v.backend),
    executor: oneOf("executor", v.executor, ["eager", "graph"] as const),
    threads: int("threads", v.threads, 0),
    targets: targetsOf(v.target),
    llamaLib: v["llama-lib"],
    llamaBackend: v["llama-backend"] === undefined
      ? undefined
      : oneOf("llama-backend", v["llama-backend"], LLAMA_BACKENDS),
    quants: quantsOf(v.quant),
    warmup: int("warmup", v.warmup, 0),
    runs: int("runs", v.runs, 1),
    minRuns: int("min-runs", v["min-runs"], 1),
    maxRuns: int("max-runs", v["max-runs"], 1),
    minTimeMs: num("min-time-ms", v["min-time-ms"], 0),
    targetCv: num("target-cv", v["target-cv"], 0.0001, 0.9999),
    interleave: v.interleave,
    cooldownMs: num("cooldown-ms", v["cooldown-ms"], 0),
    seed: int("seed", v.seed, 0)!,
    out: v.out,
    format: oneOf("format", v.format, RECORD_FORMATS),
    quick: v.quick,
    profile: v.profile,
    help: v.help,
  };
}
