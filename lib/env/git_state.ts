/** The git commit and dirty flag of the checkout, via the `git` command. */
import { repoRoot } from "./repo_root.ts";

/**
 * The HEAD commit and whether tracked files differ from it; nulls when git or the repository
 * is unavailable (e.g. a tarball).
 *
 * @param dir The checkout (default the repository root).
 * @returns `{ commit, dirty }`.
 * @throws Nothing; a missing git or repository gives nulls.
 * @example
 * ```ts
 * import { gitState } from "./git_state.ts";
 * const { commit, dirty } = await gitState();
 * console.log(commit ?? "not a git checkout", dirty);
 * ```
 */
export async function gitState(
  dir: string = repoRoot(),
): Promise<{ commit: string | null; dirty: boolean | null }> {
  const run = async (args: string[]): Promise<string | null> => {
    try {
      const out = await new Deno.Command("git", { args, cwd: dir, stdout: "piped", stderr: "null" })
        .output();
      return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
    } catch {
      return null;
    }
  };
  const commit = await run(["rev-parse", "HEAD"]);
  if (commit === null) return { commit: null, dirty: null };
  const status = await run(["status", "--porcelain", "--untracked-files=no"]);
  return { commit, dirty: status === null ? null : status.length > 0 };
}
