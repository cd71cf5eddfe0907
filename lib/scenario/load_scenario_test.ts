import assert from "node:assert/strict";
import { join } from "node:path";
import { loadScenario } from "./load_scenario.ts";

Deno.test("loadScenario reads the shipped S1-S6 file", async () => {
  const s = await loadScenario(new URL("../../scenarios/s1-s6.ts", import.meta.url).pathname);
  if (s.kind !== "grid") throw new Error(`expected a grid, got ${s.kind}`);
  assert.deepEqual(
    s.cases.map((c) => [c.id, c.promptTokens, c.decodeTokens]),
    [["S1", 16, 32], ["S2", 64, 64], ["S3", 256, 128], ["S4", 512, 256], ["S5", 1024, 128], [
      "S6",
      64,
      512,
    ]],
  );
});

Deno.test("loadScenario names a missing file, a missing default export and a bad field", async () => {
  await assert.rejects(loadScenario("no/such/file.ts"), {
    message: 'Cannot load scenario "no/such/file.ts": file not found',
  });
  const dir = await Deno.makeTempDir();
  try {
    const noDefault = join(dir, "nodefault.ts");
    await Deno.writeTextFile(noDefault, "export const x = 1;\n");
    await assert.rejects(loadScenario(noDefault), { message: /must default-export a scenario/ });
    const bad = join(dir, "bad.ts");
    await Deno.writeTextFile(
      bad,
      'export default { kind: "grid", name: "b", cases: [{ id: "A", promptTokens: 0, decodeTokens: 1 }] };\n',
    );
    await assert.rejects(loadScenario(bad), {
      message: `${bad}: cases[0].promptTokens must be a positive integer, got 0`,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
