/** The record's warning when the engine that ran is not the toolkit's code. */

/**
 * Compare the commit the engine was built from (stamped at build time, `EngineInfo.commit` and
 * `dirty`) with the toolkit's checkout (`gitState()`), and say what a reader of the record must
 * know: a different commit, an engine built from modified sources, or an unknown engine commit.
 *
 * @param engine The engine's stamp: `{ commit, dirty }` from `Engine.info()`.
 * @param toolkit The toolkit's checkout: `{ commit, dirty }` from `gitState()`.
 * @returns The warning text, or null when both name the same commit and the engine was clean
 *   (or when neither side knows its commit, e.g. a release tarball).
 * @throws Nothing.
 * @example
 * ```ts
 * import { engineCommitWarning } from "./engine_commit_warning.ts";
 * const a = "1111111111111111111111111111111111111111";
 * const b = "2222222222222222222222222222222222222222";
 * engineCommitWarning({ commit: a, dirty: false }, { commit: a, dirty: false }); // null
 * const w = engineCommitWarning({ commit: a, dirty: false }, { commit: b, dirty: false });
 * if (!w?.includes("rebuild")) throw new Error(String(w));
 * ```
 */
export function engineCommitWarning(
  engine: { commit: string | null; dirty: boolean | null },
  toolkit: { commit: string | null; dirty: boolean | null },
): string | null {
  const short = (c: string) => c.slice(0, 12);
  if (engine.commit === null) {
    return toolkit.commit === null ? null : `The engine's commit is unknown (built outside a git ` +
      `checkout or by an older build); the toolkit is at ${short(toolkit.commit)}: rebuild the ` +
      `engine (deno task build) so the record names the code that ran`;
  }
  const same = toolkit.commit !== null &&
    (toolkit.commit.startsWith(engine.commit) || engine.commit.startsWith(toolkit.commit));
  if (toolkit.commit !== null && !same) {
    return `The engine was built from commit ${short(engine.commit)}${
      engine.dirty ? " with uncommitted changes in native/" : ""
    } but the toolkit is at ${short(toolkit.commit)}: rebuild the engine (deno task build) so ` +
      `the record names the code that ran`;
  }
  if (engine.dirty) {
    return `The engine was built from commit ${short(engine.commit)} with uncommitted changes ` +
      `in native/: the record's commit does not name the code that ran`;
  }
  return null;
}
