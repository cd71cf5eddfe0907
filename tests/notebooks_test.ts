/**
 * Runs each notebook under notebooks/ as one module: its code cells in order, with Deno.jupyter
 * replaced by a shim that prints the mime types displayed. Asserts that it ends without error and
 * displayed Markdown and a Vega-Lite chart. The live FFI notebook runs only when the engine
 * library loads and synthesizes a model (checked in a subprocess, since a stale library can
 * abort the process); otherwise it is skipped with a line saying why.
 */
import assert from "node:assert/strict";
import { join } from "node:path";

const dir = new URL("../notebooks/", import.meta.url).pathname;

// Deno.jupyter exists only under `deno jupyter` (elsewhere its getter throws and cannot be
// redefined), so the cells' `Deno.jupyter` is rewritten to this stand-in.
const SHIM = `// test shim for Deno.jupyter
const __jupyter = (() => {
  const display = (obj: any, options?: { raw?: boolean }) => {
    const bundle = options?.raw ? obj : obj[Symbol.for("Jupyter.display")]();
    for (const [mime, value] of Object.entries(bundle)) {
      JSON.stringify(value); // what the kernel would send must serialize
      console.log("@@display " + mime);
    }
    return Promise.resolve();
  };
  const md = (s: TemplateStringsArray, ...v: unknown[]) =>
    display({ "text/markdown": String.raw(s, ...v) }, { raw: true });
  return { display, md, broadcast: async () => {} };
})();
`;

interface Notebook {
  metadata: { kernelspec?: { name?: string } };
  cells: { cell_type: string; source: string[] | string }[];
}

async function runNotebook(name: string) {
  const nb = JSON.parse(await Deno.readTextFile(join(dir, name))) as Notebook;
  assert.equal(nb.metadata.kernelspec?.name, "deno", `${name}: kernel must be deno`);
  const code = nb.cells
    .filter((c) => c.cell_type === "code")
    .map((c, i) => `// cell ${i + 1}\n${Array.isArray(c.source) ? c.source.join("") : c.source}`)
    .join("\n\n");
  // Beside the notebooks, so relative imports and paths resolve as in the kernel (cwd notebooks/).
  const file = join(dir, `_nbtest_${name.replace(/\W/g, "_")}.ts`);
  await Deno.writeTextFile(file, SHIM + code.replaceAll("Deno.jupyter", "__jupyter") + "\n");
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `${name} failed:\n${stderr}\n${stdout.slice(-2000)}`);
    return stdout.split("\n").filter((l) => l.startsWith("@@display ")).map((l) => l.slice(10));
  } finally {
    await Deno.remove(file);
  }
}

Deno.test("every notebook is a Deno notebook and has a test", async () => {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".ipynb")) names.push(e.name);
  assert.deepEqual(names.sort(), ["dataset.ipynb", "live_run.ipynb", "results.ipynb"]);
});

Deno.test("results notebook: tables, charts and a comparison", async () => {
  const shown = await runNotebook("results.ipynb");
  assert.ok(shown.filter((m) => m === "text/markdown").length >= 3, shown.join(","));
  assert.ok(shown.includes("application/vnd.vegalite.v5+json"), shown.join(","));
});

Deno.test("dataset notebook: analysis and histogram", async () => {
  assert.deepEqual(await runNotebook("dataset.ipynb"), [
    "text/markdown",
    "application/vnd.vegalite.v5+json",
  ]);
});

const probe = await new Deno.Command(Deno.execPath(), {
  args: [
    "eval",
    `import { Engine } from "${new URL("../lib/ffi/mod.ts", import.meta.url)}";
     using e = Engine.create({ backend: "cpu" }); using m = await e.synthesize("tiny-qwen2");`,
  ],
  stdout: "null",
  stderr: "piped",
}).output();
const engineReady = probe.code === 0;
if (!engineReady) {
  const why = new TextDecoder().decode(probe.stderr).trim().split("\n").pop();
  console.log(`live_run.ipynb skipped: the engine library cannot synthesize a model (${why})`);
}

Deno.test({
  name: "live notebook: a small run through the FFI bindings",
  ignore: !engineReady,
  fn: async () => {
    assert.deepEqual(await runNotebook("live_run.ipynb"), [
      "text/markdown",
      "text/markdown",
      "application/vnd.vegalite.v5+json",
    ]);
  },
});
