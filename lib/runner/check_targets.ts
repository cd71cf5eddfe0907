/** Which targets a bench run may use, checked before anything is opened or measured. */
import { LLAMA_CPP_CAPABILITIES } from "../targets/llama_cpp.ts";
import { LMRIG_CAPABILITIES } from "../targets/lmrig_session_target.ts";
import { requireCapabilities } from "../targets/require_capabilities.ts";
import type { Capability } from "../targets/types.ts";

/** Target names a bench run accepts, with the capabilities each declares. */
export const TARGET_CAPABILITIES: Record<string, readonly Capability[]> = {
  "lmrig": LMRIG_CAPABILITIES,
  "llama.cpp": LLAMA_CPP_CAPABILITIES,
};

/** What each scenario kind needs of a target. */
export const KIND_CAPABILITIES: Record<string, readonly Capability[]> = {
  "grid": ["prefill-timed", "step-timed", "sampling"],
  "cache-sweep": ["step-timed"],
  "workers": ["batched-decode", "prefill-timed", "step-timed", "sampling"],
  "prompts": ["prefill-timed", "step-timed", "sampling"],
};

/** What each scenario kind needs one of (any of the list will do). */
export const KIND_ANY_OF: Record<string, readonly Capability[]> = {
  "cache-sweep": ["kv-fill-random", "kv-fill-prefill"],
};

/**
 * Check the targets of a run before anything starts: known names, none twice, and every
 * capability the scenario kind needs (refused with the target, the kind and the missing
 * capabilities; for a kind that needs one of several, such as a KV fill by random data or by
 * prefill for the cache sweep, all of them are named).
 *
 * @param names Target names in run order (e.g. `["lmrig", "llama.cpp"]`).
 * @param kind The scenario kind.
 * @returns The names, unchanged.
 * @throws {RangeError} On an empty list, an unknown or repeated name.
 * @throws {Error} When a target lacks a capability the kind needs.
 * @example
 * ```ts
 * import { checkTargets } from "./check_targets.ts";
 * checkTargets(["lmrig", "llama.cpp"], "cache-sweep");
 * let why = "";
 * try {
 *   checkTargets(["lmrig", "vllm"], "grid");
 * } catch (e) {
 *   why = (e as Error).message;
 * }
 * if (!why.includes("vllm")) throw new Error("expected a refusal");
 * ```
 */
export function checkTargets(names: readonly string[], kind: string): readonly string[] {
  if (names.length === 0) throw new RangeError("No target given: expected lmrig, llama.cpp");
  const seen = new Set<string>();
  for (const name of names) {
    const caps = TARGET_CAPABILITIES[name];
    if (!caps) {
      throw new RangeError(
        `Unknown target "${name}": expected ${Object.keys(TARGET_CAPABILITIES).join(", ")}`,
      );
    }
    if (seen.has(name)) throw new RangeError(`Target "${name}" is given twice`);
    seen.add(name);
    const target = { name, capabilities: new Set(caps) };
    requireCapabilities(target, kind, KIND_CAPABILITIES[kind] ?? []);
    const anyOf = KIND_ANY_OF[kind] ?? [];
    if (anyOf.length > 0 && !anyOf.some((c) => target.capabilities.has(c))) {
      requireCapabilities(target, kind, anyOf);
    }
  }
  return names;
}
