/** Import a scenario file and validate its default export. */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { ResolvedScenario } from "./types.ts";
import { validateScenario } from "./validate_scenario.ts";

/**
 * Load a scenario file: a TypeScript module whose default export is a declaration (usually
 * `defineScenario({...})`). The result is validated and resolved.
 *
 * @param file Path of the file, as the user typed it (kept for messages and the record).
 * @returns The resolved scenario.
 * @throws {Error} `Cannot load scenario "x": file not found`, or the module's own error.
 * @throws {TypeError | RangeError} From validation, naming the file and field.
 * @example
 * ```ts
 * import { loadScenario } from "./load_scenario.ts";
 * const s = await loadScenario("scenarios/s1-s6.ts");
 * console.log(s.kind, s.name);
 * ```
 */
export async function loadScenario(file: string): Promise<ResolvedScenario> {
  const abs = resolve(file);
  try {
    if (!Deno.statSync(abs).isFile) throw new Error(`Cannot load scenario "${file}": not a file`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`Cannot load scenario "${file}": file not found`);
    }
    throw e;
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(abs).href);
  } catch (e) {
    throw new Error(`Cannot load scenario "${file}": ${(e as Error).message}`);
  }
  if (!("default" in mod)) {
    throw new TypeError(
      `${file}: the module must default-export a scenario (export default defineScenario({...}))`,
    );
  }
  return validateScenario(mod.default, file);
}
