/** Every scenario file shipped under scenarios/ loads and validates, so a broken one fails here. */
import assert from "node:assert/strict";
import { loadScenario } from "../lib/scenario/load_scenario.ts";

const dir = new URL("../scenarios/", import.meta.url);

Deno.test("every shipped scenario file loads and validates, with its file name as its name", async () => {
  const files = [...Deno.readDirSync(dir)].filter((e) => e.isFile && e.name.endsWith(".ts"))
    .map((e) => e.name).sort();
  assert.ok(files.length >= 7, `expected the shipped scenarios, found ${files.join(", ")}`);
  for (const name of files) {
    const s = await loadScenario(new URL(name, dir).pathname);
    assert.equal(s.name, name.replace(/\.ts$/, ""), `${name}: name field`);
  }
});

Deno.test("the gguf-quant scenario runs pp512 on the BF16, Q8_0 and Q4_K_M files of both targets", async () => {
  const s = await loadScenario(new URL("gguf-quant.ts", dir).pathname);
  assert.equal(s.kind, "grid");
  if (s.kind !== "grid") return;
  assert.deepEqual(s.quants, ["bf16", "q8_0", "q4_k_m"]);
  assert.deepEqual(s.targets, ["lmrig", "llama.cpp"]);
  assert.ok(s.cases.some((c) => c.id === "pp512" && c.promptTokens === 512));
});
