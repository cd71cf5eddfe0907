/**
 * Runs each notebook under notebooks/ as one module: its code cells in order, with Deno.jupyter
 * replaced by a shim that prints the mime types displayed. Asserts that it ends without error and
 * displayed Markdown and a Vega-Lite chart. The live FFI notebook (a grid scenario through the
 * runner, then the generate loop by hand) runs only when the engine library loads and
 * synthesizes a model (checked in a subprocess, since a stale library can abort the process);
 * otherwise it is skipped with a line saying why.
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
      if (mime === "text/markdown") console.log("@@text " + JSON.stringify(value));
    }
    return Promise.resolve();
  };
  const md = (s: TemplateStringsArray, ...v: unknown[]) =>
    display({ "text/markdown": String.raw(s, ...v) }, { raw: true });
  return { display, md, broadcast: async () => {} };
})();
`;

interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: {
    kernelspec?: { name?: string; language?: string };
    language_info?: { name?: string };
  };
  cells: {
    id?: string;
    cell_type: string;
    source: string[] | string;
    outputs?: unknown[];
    execution_count?: number | null;
  }[];
}

/** Writes a notebook's code cells, in order, as one module beside it; returns its path. */
async function writeModule(name: string): Promise<string> {
  const nb = JSON.parse(await Deno.readTextFile(join(dir, name))) as Notebook;
  const code = nb.cells
    .filter((c) => c.cell_type === "code")
    .map((c, i) => `// cell ${i + 1}\n${Array.isArray(c.source) ? c.source.join("") : c.source}`)
    .join("\n\n");
  // Beside the notebooks, so relative imports and paths resolve as in the kernel (cwd notebooks/).
  const file = join(dir, `_nbtest_${name.replace(/\W/g, "_")}.ts`);
  await Deno.writeTextFile(file, SHIM + code.replaceAll("Deno.jupyter", "__jupyter") + "\n");
  return file;
}

/** Runs a notebook's code cells; returns the mime types displayed and the Markdown texts. */
async function runNotebookOutput(name: string, env: Record<string, string> = {}) {
  const file = await writeModule(name);
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file],
      cwd: dir,
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, `${name} failed:\n${stderr}\n${stdout.slice(-2000)}`);
    const lines = stdout.split("\n");
    return {
      shown: lines.filter((l) => l.startsWith("@@display ")).map((l) => l.slice(10)),
      texts: lines.filter((l) => l.startsWith("@@text ")).map((l) => JSON.parse(l.slice(7))),
    };
  } finally {
    await Deno.remove(file);
  }
}

async function runNotebook(name: string): Promise<string[]> {
  return (await runNotebookOutput(name)).shown;
}

Deno.test("every notebook is nbformat 4.5 with the Deno kernel and has a test; results type-checks", async () => {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".ipynb")) names.push(e.name);
  assert.deepEqual(names.sort(), ["dataset.ipynb", "live_run.ipynb", "results.ipynb"]);
  for (const name of names) {
    // What Jupyter needs to open it (nbformat's schema, the parts it checks most often).
    const nb = JSON.parse(await Deno.readTextFile(join(dir, name))) as Notebook;
    assert.deepEqual([nb.nbformat, nb.nbformat_minor], [4, 5], name);
    assert.deepEqual(
      [
        nb.metadata.kernelspec?.name,
        nb.metadata.kernelspec?.language,
        nb.metadata.language_info?.name,
      ],
      ["deno", "typescript", "typescript"],
      name,
    );
    const ids = nb.cells.map((c) => c.id);
    assert.ok(ids.every((id) => typeof id === "string" && /^[a-zA-Z0-9-_]{1,64}$/.test(id)), name);
    assert.equal(new Set(ids).size, ids.length, `${name}: cell ids must be unique`);
    for (const c of nb.cells) {
      assert.ok(["code", "markdown"].includes(c.cell_type), name);
      if (c.cell_type === "code") assert.ok(Array.isArray(c.outputs) && "execution_count" in c);
    }
  }
  // The kernel does not type-check; this does, for the notebook with the most code (the others
  // import lib/tokenizer, whose 11 MB of bundled JSON take ~6 s to type-check).
  const files = [await writeModule("results.ipynb")];
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["check", ...files],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  } finally {
    await Promise.all(files.map((f) => Deno.remove(f)));
  }
});

const VEGA = "application/vnd.vegalite.v5+json";

Deno.test("results notebook: the records in results/, their tables, charts, a comparison", async () => {
  const { shown, texts } = await runNotebookOutput("results.ipynb");
  const all = texts.join("\n");
  // Whatever results/ holds (or the fixtures when it is empty): a record list, the newest of
  // each kind as a table with its charts, and a comparison.
  assert.match(all, /\| File \| Kind \| Scenario \|/);
  assert.match(all, /^Newest: /m);
  assert.ok(shown.includes(VEGA), shown.join(","));
  assert.match(all, /## Comparison against /);
});

Deno.test("results notebook: newest of each kind, a lone run compared with a fixture", async () => {
  const results = await Deno.makeTempDir();
  try {
    // Two grid runs (an older copy of grid-b renamed), one cache sweep, one unreadable file.
    const fix = new URL("../tests/fixtures/records/", import.meta.url).pathname;
    const gridB = JSON.parse(await Deno.readTextFile(join(fix, "grid-b.json")));
    await Deno.writeTextFile(
      join(results, "grid-old.json"),
      JSON.stringify({ ...gridB, createdAt: "2024-01-01T00:00:00.000Z" }),
    );
    await Deno.copyFile(join(fix, "grid-a.json"), join(results, "grid-new.json"));
    await Deno.copyFile(join(fix, "cache-sweep.json"), join(results, "sweep.json"));
    await Deno.writeTextFile(join(results, "broken.json"), "{");
    const { shown, texts } = await runNotebookOutput("results.ipynb", { LMRIG_RESULTS: results });
    const all = texts.join("\n");
    assert.match(all, /Skipped 1 unreadable:\n- `broken\.json`/);
    assert.match(
      all,
      /Newest: \*\*grid\*\* `grid-new\.json`, \*\*cache-sweep\*\* `sweep\.json`\. No workers record yet/,
    );
    assert.match(all, /### grid: `grid-new\.json` \(\d+ charts\)/);
    assert.match(all, /### cache-sweep: `sweep\.json` \(3 charts\)/);
    assert.ok(shown.filter((m) => m === VEGA).length >= 6, shown.join(","));
    assert.match(all, /Previous \*\*grid\*\* run `grid-old\.json` \(baseline\) against the newest/);

    // Only the cache sweep: compared with the fixture of its kind, and said so.
    await Deno.remove(join(results, "grid-old.json"));
    await Deno.remove(join(results, "grid-new.json"));
    const lone = (await runNotebookOutput("results.ipynb", { LMRIG_RESULTS: results })).texts;
    assert.match(
      lone.join("\n"),
      /Only one \*\*cache-sweep\*\* run \(`sweep\.json`\): compared with the fixture `tests\/fixtures\/records\/cache-sweep\.json`/,
    );
  } finally {
    await Deno.remove(results, { recursive: true });
  }
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
  name: "live notebook: a grid scenario through the runner, then generate through the FFI bindings",
  ignore: !engineReady,
  fn: async () => {
    const { shown, texts } = await runNotebookOutput("live_run.ipynb");
    assert.deepEqual(shown, [
      "text/markdown", // the grid run: its record's table
      VEGA, // TTFT
      VEGA, // throughput
      "text/markdown", // the model
      "text/markdown", // generate, per prompt
      VEGA, // per-step time
    ]);
    assert.match(texts[0], /^9 measured runs .* record `.*live-grid\.json` \(complete\)/);
    assert.match(texts[0], /## live-grid: synthetic:tiny-qwen2 \(\w+\) on cpu\/eager/);
    for (const id of ["L1", "L2", "L3"]) assert.match(texts[0], new RegExp(`^\\| ${id} `, "m"));
    assert.match(texts[2], /\| Tell me a story about a fox\. \|/);
  },
});
