import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { repoRoot } from "../env/repo_root.ts";

/** Relative imports of every .ts file under `dirs` (comments stripped), type-only ones included. */
function importGraph(dirs: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const e of Deno.readDirSync(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) walk(path);
      else if (e.name.endsWith(".ts")) {
        const text = Deno.readTextFileSync(path).replace(/\/\*[\s\S]*?\*\//g, "");
        const deps = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"(\.[^"]+)"/gm)]
          .map((m) => normalize(join(dirname(path), m[1])));
        graph.set(normalize(path), deps);
      }
    }
  };
  for (const d of dirs) walk(d);
  return graph;
}

/** Every cycle found by a depth-first walk, as a list of files. */
function cycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 1 | 2>();
  const found: string[][] = [];
  const visit = (u: string, stack: string[]) => {
    state.set(u, 1);
    stack.push(u);
    for (const v of graph.get(u) ?? []) {
      if (state.get(v) === 1) found.push([...stack.slice(stack.indexOf(v)), v]);
      else if (!state.has(v)) visit(v, stack);
    }
    stack.pop();
    state.set(u, 2);
  };
  for (const u of graph.keys()) if (!state.has(u)) visit(u, []);
  return found;
}

Deno.test("lib/ffi and lib/env import each other without cycles, type-only imports included", () => {
  const root = repoRoot();
  const graph = importGraph([join(root, "lib", "ffi"), join(root, "lib", "env")]);
  assert.ok(graph.size > 10, `found ${graph.size} files`);
  assert.deepEqual(cycles(graph).map((c) => c.join(" -> ")), []);
  // Negative control: the walk finds a cycle when there is one.
  const loop = new Map([["a.ts", ["b.ts"]], ["b.ts", ["a.ts"]], ["c.ts", ["a.ts"]]]);
  assert.deepEqual(cycles(loop), [["a.ts", "b.ts", "a.ts"]]);
});
