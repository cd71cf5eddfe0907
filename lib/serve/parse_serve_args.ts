/** Command-line options of `deno task serve`. */
import { parseArgs } from "node:util";
import { SERVE_TARGETS } from "./open_serve_model.ts";
import type { ServerOptions } from "./start_server.ts";

/** Parsed serve options. */
export interface ServeArgs extends Omit<ServerOptions, "opened"> {
  /** Seconds running requests get to finish after SIGINT/SIGTERM before they are cancelled. */
  shutdownTimeoutS: number;
  help: boolean;
}

/** The --help text. */
export const SERVE_USAGE = `Usage: deno task serve --model SPEC [options]

Serves a model over OpenAI's API (/v1/completions, /v1/chat/completions, /v1/models, /health,
/metrics) with continuous batching. See docs/serving.md.

Options:
  --target NAME          lmrig (default) | llama.cpp
  --model SPEC           synthetic:PRESET (tiny-qwen2, qwen2.5-0.5b, ...), synthetic:path/config.json,
                         a Hugging Face folder, or (llama.cpp) a .gguf file
  --tokenizer SPEC       tokenizer folder or synthetic:PRESET (needed for a bare .gguf)
  --served-model-name ID the model id clients send (default the --model spec)
  --host ADDR            listen address (default 127.0.0.1)
  --port N               port, 0 = any free port (default 8000)
  --max-seqs N           sequence slots: requests generating at once (default 4)
  --max-queue N          requests waiting for a slot before 429 (default 256)
  --max-ctx N            positions per sequence: prompt + max_tokens (default: lmrig's engine
                         default, min(model max, 4096); llama.cpp 2048)
  --prefill-budget N     prompt tokens prefilled per scheduler step (default 512)
  --backend NAME         lmrig: cpu | cuda (default cpu)
  --threads N            compute threads, 0 = all cores (default 0)
  --seed N               seed of synthetic weights (default 0)
  --llama-lib DIR        llama.cpp: a build folder instead of the npm prebuilt
  --llama-backend B      llama.cpp: cpu | cuda | vulkan | metal, i.e. which npm package
                         ($LMRIG_LLAMA_BACKEND; default metal on macOS arm64, else cpu)
  --shutdown-timeout S   seconds running requests get after SIGINT/SIGTERM (default 10)
  -h, --help             this text

Examples:
  deno task serve --model synthetic:tiny-qwen2 --port 8000
  deno task serve --target llama.cpp --model synthetic:qwen2.5-0.5b --max-seqs 8`;

function int(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new RangeError(`--${name} must be an integer >= ${min}, got "${v}"`);
  }
  return n;
}

/**
 * Parse serve arguments; unknown flags, missing values and bad numbers are errors naming the
 * option.
 *
 * @param args Command-line arguments.
 * @returns The options.
 * @throws {TypeError} On an unknown option, a missing value or no --model.
 * @throws {RangeError} On a bad value.
 * @example
 * ```ts
 * import { parseServeArgs } from "./parse_serve_args.ts";
 * parseServeArgs(["--model", "synthetic:tiny-qwen2", "--port", "0"]).port; // 0
 * ```
 */
export function parseServeArgs(args: string[]): ServeArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      options: {
        target: { type: "string", default: "lmrig" },
        model: { type: "string" },
        tokenizer: { type: "string" },
        "served-model-name": { type: "string" },
        host: { type: "string", default: "127.0.0.1" },
        port: { type: "string", default: "8000" },
        "max-seqs": { type: "string", default: "4" },
        "max-queue": { type: "string", default: "256" },
        "max-ctx": { type: "string" },
        "prefill-budget": { type: "string", default: "512" },
        backend: { type: "string", default: "cpu" },
        threads: { type: "string", default: "0" },
        seed: { type: "string", default: "0" },
        "llama-lib": { type: "string" },
        "llama-backend": { type: "string" },
        "shutdown-timeout": { type: "string", default: "10" },
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
  const v = parsed.values;
  if (v.help) return { help: true } as ServeArgs;
  if (v.model === undefined) throw new TypeError("Missing --model SPEC; see --help");
  const target = v.target as ServeArgs["target"];
  if (!SERVE_TARGETS.includes(target)) {
    throw new RangeError(`--target must be one of ${SERVE_TARGETS.join(", ")}, got "${target}"`);
  }
  if (!["cpu", "cuda"].includes(v.backend)) {
    throw new RangeError(`--backend must be cpu or cuda, got "${v.backend}"`);
  }
  if (target === "llama.cpp" && v.backend !== "cpu") {
    throw new RangeError("--backend applies to --target lmrig only (llama.cpp runs on the CPU)");
  }
  const timeout = Number(v["shutdown-timeout"]);
  if (!Number.isFinite(timeout) || timeout < 0) {
    throw new RangeError(
      `--shutdown-timeout must be a number >= 0, got "${v["shutdown-timeout"]}"`,
    );
  }
  const port = int("port", v.port, 0)!;
  if (port > 65535) throw new RangeError(`--port must be at most 65535, got ${port}`);
  return {
    target,
    model: v.model,
    tokenizer: v.tokenizer,
    servedModelName: v["served-model-name"],
    hostname: v.host,
    port,
    maxSeqs: int("max-seqs", v["max-seqs"], 1),
    maxQueue: int("max-queue", v["max-queue"], 0),
    maxCtx: int("max-ctx", v["max-ctx"], 2),
    prefillBudgetTokens: int("prefill-budget", v["prefill-budget"], 1),
    backend: v.backend as ServeArgs["backend"],
    threads: int("threads", v.threads, 0),
    seed: int("seed", v.seed, 0),
    llamaLib: v["llama-lib"],
    llamaBackend: v["llama-backend"],
    shutdownTimeoutS: timeout,
    help: false,
  };
}
