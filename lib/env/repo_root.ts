/** The repository root, found from this file's location (lib/env/ sits two levels below). */
import { fileURLToPath } from "node:url";

/**
 * The absolute path of the lmrig repository root, with a trailing separator removed.
 *
 * @returns e.g. "/home/me/lmrig".
 * @throws Nothing.
 * @example
 * ```ts
 * import { repoRoot } from "./repo_root.ts";
 * const root = repoRoot();
 * ```
 */
export function repoRoot(): string {
  return fileURLToPath(new URL("../../", import.meta.url)).replace(/[\\/]$/, "");
}
