import assert from "node:assert/strict";
import { join } from "node:path";
import { createWhitespaceTokenizer, loadTokenizer } from "../tokenizer/mod.ts";
import { analyzeDataset } from "./analyze_dataset.ts";
import { formatAnalysisMarkdown } from "./format_analysis_markdown.ts";

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(" ");

Deno.test("whitespace tokenizer: exact percentiles, coverage and settings", async () => {
  // Prompts of 1..20 words; outputs of 100 * k words for k = 1..20, in shuffled order.
  const order = [7, 3, 19, 1, 12, 20, 5, 16, 9, 2, 14, 18, 4, 11, 8, 15, 6, 17, 10, 13];
  const lines = order.map((k) => JSON.stringify({ prompt: words(k), output: words(100 * k) }));
  lines.splice(5, 0, '{"prompt": ""}', "{oops");
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await Deno.writeTextFile(path, lines.join("\n") + "\n");
    const a = await analyzeDataset(path, {
      tokenizer: createWhitespaceTokenizer(),
      candidates: [512, 1024, 1536, 2048],
    });
    assert.equal(a.records, 20);
    assert.equal(a.withOutput, 20);
    assert.deepEqual(a.shapes, { "prompt-output": 20 });
    assert.equal(a.skipped, 2);
    assert.deepEqual(a.issues.map((i) => [i.line, i.reason.slice(0, 12)]), [
      [6, "empty prompt"],
      [7, "invalid JSON"],
    ]);
    assert.deepEqual(a.prompt, {
      count: 20,
      mean: 10.5,
      min: 1,
      p50: 10,
      p75: 15,
      p90: 18,
      p95: 19,
      p99: 20,
      max: 20,
    });
    assert.deepEqual(a.output, {
      count: 20,
      mean: 1050,
      min: 100,
      p50: 1000,
      p75: 1500,
      p90: 1800,
      p95: 1900,
      p99: 2000,
      max: 2000,
    });
    assert.deepEqual(a.coverage.map((c) => [c.nPredict, c.covered]), [
      [512, 5],
      [1024, 10],
      [1536, 15],
      [2048, 20],
    ]);
    assert.equal(a.nPrompt, 16);
    assert.equal(a.promptShare, 16 / 20);
    assert.deepEqual(a.recommendations.map((r) => [r.name, r.nPredict, r.share]), [
      ["conservative", 1536, 0.75],
      ["recommended", 2048, 1],
      ["comprehensive", 2048, 1],
    ]);
    assert.deepEqual(a.promptTokens, order);
    const md = formatAnalysisMarkdown(a);
    assert.ok(md.includes("| Prompt | 20 | 10.5 | 1 | 10 | 15 | 18 | 19 | 20 | 20 |"), md);
    assert.ok(md.includes("| **Conservative** | 16 | 1536 | 75.0% of outputs | 75.0% |"), md);
    assert.ok(md.includes(`- \`${path}:6\`: empty prompt`), md);

    const limited = await analyzeDataset(path, {
      tokenizer: createWhitespaceTokenizer(),
      limit: 3,
      maxIssues: 0,
    });
    assert.deepEqual(limited.promptTokens, [7, 3, 19]);
    assert.equal(limited.skipped, 0); // the bad lines come after the first three records
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("real Qwen tokenizer on the ShareGPT fixture, plain and with the chat template", async () => {
  const file = new URL("../../tests/fixtures/datasets/sharegpt_sample.jsonl", import.meta.url);
  const tok = await loadTokenizer("synthetic:qwen2.5-1.5b");
  const path = file.pathname;
  const a = await analyzeDataset(path, { tokenizer: tok });
  // Counts checked by encoding each text once; a different vocabulary changes them.
  assert.deepEqual(a.promptTokens, [7, 10, 10, 10, 9, 14]);
  assert.deepEqual(a.outputTokens, [23, 33, 7, 7, 38, 7]);
  assert.deepEqual(a.issues.map((i) => i.line), [5, 6, 8]);
  // The template adds "<|im_start|>user\n" (3 tokens), "<|im_end|>\n" (2), "<|im_start|>assistant\n" (3).
  const t = await analyzeDataset(path, { tokenizer: tok, chatTemplate: true });
  assert.deepEqual(t.promptTokens, a.promptTokens.map((n) => n + 8));
  assert.equal(t.promptCounting, "chat template, one user turn");
});

Deno.test("a dataset without usable records is an error naming the first problem", async () => {
  const path = join(await Deno.makeTempDir(), "none.jsonl");
  await Deno.writeTextFile(path, '{"x": 1}\n');
  await assert.rejects(
    () => analyzeDataset(path, { tokenizer: createWhitespaceTokenizer() }),
    new RegExp(`no usable record \\(1 skipped; first: ${path}:1: no known shape`),
  );
  await Deno.remove(path);
});
