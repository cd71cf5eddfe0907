/** Which backends a cache-sweep run covers. */
import type { BackendName } from "../ffi/constants.ts";

/**
 * The backends a cache sweep runs on: the one asked for on the command line, or with "auto" every
 * backend the scenario lists that this build and machine have (in the scenario's order, so the
 * first is the reference of the backend table). Skipped backends are named in `skipped`.
 *
 * @param listed The scenario's `backends`.
 * @param asked The --backend option ("auto" = the scenario's list).
 * @param available Whether this build and machine have a backend (lmr_backend_available).
 * @returns The backends to run, in order, and the listed ones left out.
 * @throws {RangeError} When none of the listed backends is available.
 * @example
 * ```ts
 * import { cacheSweepBackends } from "./cache_sweep_backends.ts";
 * cacheSweepBackends(["cuda", "cpu"], "auto", (b) => b === "cpu").run; // ["cpu"]
 * ```
 */
export function cacheSweepBackends(
  listed: readonly ("cpu" | "cuda" | "metal")[],
  asked: BackendName,
  available: (backend: BackendName) => boolean,
): { run: BackendName[]; skipped: BackendName[] } {
  if (asked !== "auto") return { run: [asked], skipped: [] };
  const run = listed.filter((b) => available(b));
  const skipped = listed.filter((b) => !available(b));
  if (run.length === 0) {
    throw new RangeError(
      `Cannot run the cache sweep: none of its backends (${listed.join(", ")}) is available in ` +
        `this build on this machine`,
    );
  }
  return { run, skipped };
}
