import assert from "node:assert/strict";
import { parseBenchArgs } from "./parse_bench_args.ts";

Deno.test("parseBenchArgs fills defaults and reads every option", () => {
  const d = parseBenchArgs([]);
  assert.equal(d.scenario, "scenarios/s1-s6.ts");
  assert.equal(d.backend, "auto");
  assert.equal(d.format, "md");
  assert.equal(d.runs, undefined);
  const a = parseBenchArgs([
    "scen.ts",
    "--model",
    "synthetic:tiny-llama",
    "--backend",
    "cpu",
    "--executor",
    "graph",
    "--threads",
    "2",
    "--warmup",
    "0",
    "--runs",
    "7",
    "--target-cv",
    "0.02",
    "--interleave",
    "--seed",
    "9",
    "--format",
    "csv",
    "--quick",
    "--profile",
    "--out",
    "x.json",
  ]);
  assert.deepEqual(
    [a.scenario, a.model, a.backend, a.executor, a.threads, a.warmup, a.runs, a.targetCv],
    ["scen.ts", "synthetic:tiny-llama", "cpu", "graph", 2, 0, 7, 0.02],
  );
  assert.deepEqual([a.interleave, a.seed, a.format, a.quick, a.profile, a.out], [
    true,
    9,
    "csv",
    true,
    true,
    "x.json",
  ]);
});

Deno.test("parseBenchArgs names the bad option", () => {
  assert.throws(() => parseBenchArgs(["--fast"]), {
    name: "TypeError",
    message: 'Unknown option "--fast"; see --help',
  });
  assert.throws(() => parseBenchArgs(["--runs", "0"]), {
    name: "RangeError",
    message: '--runs must be an integer >= 1, got "0"',
  });
  assert.throws(() => parseBenchArgs(["--threads", "2.5"]), {
    message: /--threads must be an integer/,
  });
  assert.throws(() => parseBenchArgs(["--backend", "tpu"]), {
    message: '--backend must be one of auto, cpu, cuda, got "tpu"',
  });
  assert.throws(() => parseBenchArgs(["--backend", "metal"]), {
    name: "RangeError",
    message: /^--backend metal: lmrig has no Metal backend; on a Mac use --backend cpu/,
  });
  assert.throws(() => parseBenchArgs(["--format", "xml"]), {
    message: /--format must be one of md, json, csv, jsonl/,
  });
  assert.throws(() => parseBenchArgs(["a.ts", "b.ts"]), {
    message: /at most one scenario file, got 2/,
  });
  assert.throws(() => parseBenchArgs(["--model"]), { message: /"--model" needs a value/ });
});

Deno.test("parseBenchArgs: --target lists distinct known targets, --llama-lib a folder", () => {
  const a = parseBenchArgs(["--target", "lmrig,llama.cpp", "--llama-lib", "/opt/llama"]);
  assert.deepEqual(a.targets, ["lmrig", "llama.cpp"]);
  assert.equal(a.llamaLib, "/opt/llama");
  assert.equal(parseBenchArgs([]).targets, undefined); // the scenario's, else lmrig
  assert.equal(parseBenchArgs(["--llama-backend", "cuda"]).llamaBackend, "cuda");
  assert.equal(parseBenchArgs([]).llamaBackend, undefined); // $LMRIG_LLAMA_BACKEND, else default
  assert.throws(() => parseBenchArgs(["--llama-backend", "rocm"]), /llama-backend.*rocm/);
  assert.throws(() => parseBenchArgs(["--target", "lmrig,vllm"]), {
    name: "RangeError",
    message: '--target must list targets of lmrig, llama.cpp, got "vllm"',
  });
  assert.throws(() => parseBenchArgs(["--target", "lmrig,lmrig"]), /must not name a target twice/);
  assert.deepEqual(parseBenchArgs(["--quant", "BF16,q4_k_m"]).quants, ["bf16", "q4_k_m"]);
  assert.equal(parseBenchArgs([]).quants, undefined);
  assert.throws(() => parseBenchArgs(["--quant", "q3_x"]), {
    name: "RangeError",
    message:
      '--quant must list variants of f32, f16, bf16, q4_0, q8_0, q4_k_s, q4_k_m, q5_k_m, q6_k, got "q3_x"',
  });
  assert.throws(() => parseBenchArgs(["--quant", "q8_0,Q8_0"]), /must not name a variant twice/);
});

Deno.test("parseBenchArgs: an HTTP --target (endpoint list) and its options", () => {
  const a = parseBenchArgs([
    "--target",
    "http://127.0.0.1:8000/v1, http://127.0.0.1:8001/v1",
    "--api-key-env",
    "KEY",
    "--model-name",
    "qwen",
    "--api",
    "chat",
    "--client-isolates",
    "2",
    "--slo",
    "ttft:500,tpot:50,e2el:4000",
  ]);
  assert.equal(a.targets, undefined);
  assert.deepEqual(a.http, {
    endpoints: ["http://127.0.0.1:8000/v1", "http://127.0.0.1:8001/v1"],
    apiKeyEnv: "KEY",
    modelName: "qwen",
    api: "chat",
    isolates: 2,
    slo: { ttftMs: 500, tpotMs: 50, e2eMs: 4000 },
  });
  assert.equal(parseBenchArgs([]).http, undefined);
  assert.throws(() => parseBenchArgs(["--target", "http://h:1/v1", "--api", "embeddings"]), {
    message: /--api must be one of completions, chat/,
  });
  assert.throws(() => parseBenchArgs(["--target", "http://h:1/v1", "--slo", "ttft:-1"]), {
    message: /--slo must be a list of ttft:MS, tpot:MS, e2e:MS, got "ttft:-1"/,
  });
  assert.throws(() => parseBenchArgs(["--model-name", "x"]), /applies to an HTTP --target/);
});
