/**
 * The rig's llama.cpp figures against llama-bench's own, for the same model, threads and sizes:
 * `deno run -A scripts/llama-bench-agreement.ts --llama-bench PATH [options]`. The two alternate
 * round by round in this process (rig, llama-bench, rig, ...), each round `--reps` repetitions
 * after one warm-up; it prints both medians and their difference, and exits 1 when a test
 * differs by more than --tolerance (default 5%). lmrig never builds or downloads llama.cpp:
 * point --llama-bench (or $LMRIG_LLAMA_BENCH) at your own build, and --llama-lib at the same
 * build's library folder to measure the same code on both sides (docs/targets.md).
 * @module
 */
import { parseArgs } from "node:util";
import { agreementRows, measurePpTg, runLlamaBench } from "../lib/agreement/mod.ts";
import { modelGguf } from "../lib/gguf/model_gguf.ts";
import { openLlamaCppTarget } from "../lib/targets/llama_cpp.ts";
import { quantizeGguf } from "../lib/targets/llama_cpp/quantize_gguf.ts";
import { formatTable } from "../lib/cli/format_table.ts";
import { runMain } from "./_run_main.ts";

const USAGE = `Usage: deno run -A scripts/llama-bench-agreement.ts --llama-bench PATH [options]

Options:
  --llama-bench PATH  the llama-bench executable ($LMRIG_LLAMA_BENCH)
  --llama-lib DIR     the rig's llama.cpp library folder (default the npm prebuilt; give the
                      folder of the same build as llama-bench to compare like with like)
  --model SPEC        an lmrig preset (synthetic, converted to GGUF and cached), an HF folder or
                      a .gguf file (default qwen2.5-0.5b)
  --quant Q           weight variant: bf16 (default), f16, f32, q8_0, q4_k_m, ...
  --threads N         threads on both sides (default 1)
  --pp N              prompt tokens of the pp test (default 64)
  --tg N              generated tokens of the tg test (default 32)
  --reps N            repetitions per round on each side (default 5)
  --rounds N          alternating rounds (default 2)
  --kv T              KV cache type on both sides (default f16, llama-bench's)
  --tolerance PCT     largest difference that agrees, percent (default 5)
`;

const int = (name: string, v: string | undefined, fallback: number, min: number) => {
  const n = v === undefined ? fallback : Number(v);
  if (!Number.isInteger(n) || n < min) {
    throw new RangeError(`--${name} must be an integer >= ${min}, got "${v}"\n${USAGE}`);
  }
  return n;
};

await runMain(async () => {
  const { values: v } = parseArgs({
    args: Deno.args,
    options: {
      "llama-bench": { type: "string" },
      "llama-lib": { type: "string" },
      model: { type: "string", default: "qwen2.5-0.5b" },
      quant: { type: "string", default: "bf16" },
      threads: { type: "string" },
      pp: { type: "string" },
      tg: { type: "string" },
      reps: { type: "string" },
      rounds: { type: "string" },
      kv: { type: "string", default: "f16" },
      tolerance: { type: "string", default: "5" },
      help: { type: "boolean", default: false },
    },
  });
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const bench = v["llama-bench"] ?? Deno.env.get("LMRIG_LLAMA_BENCH");
  if (!bench) {
    throw new TypeError(
      `No llama-bench given: pass --llama-bench PATH or set LMRIG_LLAMA_BENCH\n${USAGE}`,
    );
  }
  const threads = int("threads", v.threads, 1, 1);
  const pp = int("pp", v.pp, 64, 0), tg = int("tg", v.tg, 32, 0);
  const reps = int("reps", v.reps, 5, 1), rounds = int("rounds", v.rounds, 2, 1);
  const tolerance = Number(v.tolerance) / 100;
  if (!(tolerance > 0)) {
    throw new RangeError(`--tolerance must be a positive percent, got "${v.tolerance}"`);
  }
  const quant = v.quant!.toLowerCase();
  const kvType = v.kv! as "f16" | "bf16" | "f32" | "q8_0";

  const spec = v.model!;
  const source = spec.endsWith(".gguf")
    ? spec
    : (await modelGguf(spec.replace(/^synthetic:/, ""), { dtype: "bf16", weightDtype: "bf16" }))
      .path;
  const model = quant === "bf16" && !spec.endsWith(".gguf")
    ? source
    : await quantizeGguf(source, quant, { libDir: v["llama-lib"] });
  const nBatch = 2048, nUbatch = 512;
  using target = await openLlamaCppTarget({
    model,
    threads,
    maxCtx: Math.max(pp, tg, 1),
    kvType,
    flashAttn: false,
    nBatch: Math.min(nBatch, Math.max(pp, tg, 1)),
    nUbatch: Math.min(nUbatch, Math.max(pp, tg, 1)),
    libDir: v["llama-lib"],
  });
  const facts = target.facts();
  console.log(
    `model: ${model} (${target.model().dtype}, ${threads} thread(s), KV ${kvType}, flash attention off)`,
  );
  console.log(
    `rig: llama.cpp ${facts.version}, ${facts.build}, ${facts.backend}, ${facts.libraryPath}`,
  );
  const samples = {
    rig: { pp: [] as number[], tg: [] as number[] },
    bench: { pp: [] as number[], tg: [] as number[] },
  };
  let benchBuild = "", command: string[] = [];
  for (let round = 1; round <= rounds; round++) {
    const r = await measurePpTg(target, { pp, tg, reps, seed: round });
    samples.rig.pp.push(...r.pp);
    samples.rig.tg.push(...r.tg);
    const b = await runLlamaBench(bench, {
      model,
      threads,
      pp,
      tg,
      reps,
      kvType,
      flashAttn: false,
      nBatch,
      nUbatch,
    });
    samples.bench.pp.push(...b.pp);
    samples.bench.tg.push(...b.tg);
    benchBuild = b.build;
    command = b.command;
    console.log(`round ${round}/${rounds} done`);
  }
  console.log(`llama-bench: ${benchBuild}: ${command.join(" ")}`);
  const tests: Record<string, { rig: number[]; bench: number[] }> = {};
  if (pp > 0) tests[`pp${pp}`] = { rig: samples.rig.pp, bench: samples.bench.pp };
  if (tg > 0) tests[`tg${tg}`] = { rig: samples.rig.tg, bench: samples.bench.tg };
  const rows = agreementRows(tests, tolerance);
  const f = (x: number) => x.toFixed(1);
  console.log(
    "\n" +
      formatTable(
        [
          "Test",
          "Rig t/s (median)",
          "Rig range",
          "llama-bench t/s",
          "llama-bench range",
          "Rig / bench",
          "Verdict",
        ],
        rows.map((r) => [
          r.test,
          f(r.rig),
          `${f(r.rigRange[0])}-${f(r.rigRange[1])}`,
          f(r.bench),
          `${f(r.benchRange[0])}-${f(r.benchRange[1])}`,
          `${r.difference >= 0 ? "+" : ""}${(r.difference * 100).toFixed(1)}%`,
          r.agrees ? `agrees (within ${v.tolerance}%)` : `DIFFERS (over ${v.tolerance}%)`,
        ]),
      ),
  );
  console.log(
    `\n${rounds} alternating round(s) of ${reps} repetitions on each side, after one warm-up each.`,
  );
  return rows.every((r) => r.agrees) ? 0 : 1;
});
