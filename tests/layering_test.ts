/**
 * Data flows one way (DESIGN.md, STYLE.md): the stages that read records (stats, results,
 * compare, charts, report) must never reach the engine bindings or the runner, not even through
 * another module. Follows every relative static and dynamic import from those folders.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { repoRoot } from "../lib/env/repo_root.ts";

const READERS = ["lib/stats", "lib/results", "lib/compare", "lib/charts", "lib/report"];
const FORBIDDEN = ["lib/ffi/", "lib/runner/"];

/** Relative module specifiers in `source`: `from "./x.ts"`, `import("./x.ts")`, `export * from`. */
function relativeImports(source: string): string[] {
  const specs: string[] = [];
  for (const m of source.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    specs.push(m[1]);
  }
  return specs;
}

/** Every non-test .ts file below `dir` (relative to the repository root). */
function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(root, dir))) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...sourceFiles(root, path));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) out.push(path);
  }
  return out;
}

/** The chain of imports from `start` to the first forbidden module, or null when none is reached. */
function forbiddenChain(root: string, start: string): string[] | null {
  const seen = new Set<string>([start]);
  const queue: string[][] = [[start]];
  while (queue.length > 0) {
    const chain = queue.shift()!;
    const file = chain[chain.length - 1];
    if (FORBIDDEN.some((f) => file.startsWith(f))) return chain;
    for (const spec of relativeImports(Deno.readTextFileSync(join(root, file)))) {
      const next = relative(root, resolve(root, dirname(file), spec));
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push([...chain, next]);
    }
  }
  return null;
}

Deno.test("relativeImports finds static, re-export and dynamic imports", () => {
  const src = `import { a } from "./a.ts";\nexport * from "../b/c.ts";\n` +
    `const m = await import("./d.ts");\nimport type { T } from 'npm:x';\n`;
  assert.deepStrictEqual(relativeImports(src), ["./a.ts", "../b/c.ts", "./d.ts"]);
});

Deno.test("forbiddenChain reports the path to a forbidden module", () => {
  const root = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(join(root, "lib/charts"), { recursive: true });
    Deno.mkdirSync(join(root, "lib/ffi"), { recursive: true });
    Deno.writeTextFileSync(join(root, "lib/charts/a.ts"), `import "./b.ts";`);
    Deno.writeTextFileSync(join(root, "lib/charts/b.ts"), `export * from "../ffi/x.ts";`);
    Deno.writeTextFileSync(join(root, "lib/ffi/x.ts"), "");
    assert.deepStrictEqual(forbiddenChain(root, "lib/charts/a.ts"), [
      "lib/charts/a.ts",
      "lib/charts/b.ts",
      "lib/ffi/x.ts",
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("stats, results, compare, charts and report never import lib/ffi or lib/runner", () => {
  const root = repoRoot();
  const files = READERS.flatMap((dir) => sourceFiles(root, dir));
  assert(files.length > 20, `expected the reader folders to hold modules, found ${files.length}`);
  const chains = files.flatMap((f) => {
    const chain = forbiddenChain(root, f);
    return chain ? [chain.join(" -> ")] : [];
  });
  assert.deepStrictEqual(chains, [], `forbidden imports:\n${chains.join("\n")}`);
});

/**
 * The first import cycle reachable from `files` (each a path relative to `root`), or null;
 * modules under a `leaves` prefix are not followed.
 */
function importCycle(root: string, files: string[], leaves: string[] = []): string[] | null {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (file: string): string[] | null => {
    if (state.get(file) === "done" || leaves.some((l) => file.startsWith(l))) return null;
    if (state.get(file) === "open") return [...stack.slice(stack.indexOf(file)), file];
    state.set(file, "open");
    stack.push(file);
    let text = "";
    try {
      text = Deno.readTextFileSync(join(root, file));
    } catch {
      // an import of a missing file is the type checker's business
    }
    // Doc examples (` * import { x } from "./x.ts"`) import the module itself: not code.
    const code = text.split("\n").filter((l) => !/^\s*(\*|\/\/|\/\*)/.test(l)).join("\n");
    for (const spec of relativeImports(code)) {
      const cycle = visit(relative(root, resolve(root, dirname(file), spec)));
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(file, "done");
    return null;
  };
  for (const f of files) {
    const cycle = visit(f);
    if (cycle) return cycle;
  }
  return null;
}

Deno.test("importCycle finds a type-only cycle", () => {
  const root = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(join(root, "lib"));
    Deno.writeTextFileSync(join(root, "lib/a.ts"), `import { b } from "./b.ts";`);
    Deno.writeTextFileSync(join(root, "lib/b.ts"), `import type { A } from "./a.ts";`);
    Deno.writeTextFileSync(join(root, "lib/c.ts"), `import { b } from "./b.ts";`);
    assert.deepStrictEqual(importCycle(root, ["lib/c.ts"]), ["lib/b.ts", "lib/a.ts", "lib/b.ts"]);
    Deno.writeTextFileSync(join(root, "lib/b.ts"), "export const b = 1;");
    assert.equal(importCycle(root, ["lib/a.ts", "lib/c.ts"]), null);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

// lib/ffi/ is left out until its classes share one types file (engine.ts and model.ts import
// each other today); every other folder must stay free of cycles.
Deno.test("lib/ has no import cycle, type-only or not (lib/ffi/ aside)", () => {
  const root = repoRoot();
  const files = sourceFiles(root, "lib");
  assert(files.length > 100, `expected lib/ to hold modules, found ${files.length}`);
  const cycle = importCycle(root, files, ["lib/ffi/"]);
  assert.equal(cycle, null, `import cycle: ${cycle?.join(" -> ")}`);
});
