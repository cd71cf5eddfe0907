/** Refusing a scenario on a target that lacks a capability it needs, before anything runs. */
import type { Capability } from "./types.ts";

/**
 * Check that a target has every capability a scenario kind needs.
 *
 * @param target The target's name and declared capabilities.
 * @param kind The scenario kind (`grid`, `cache-sweep`, `workers`, ...), named in the error.
 * @param needed The capabilities the kind uses.
 * @throws {Error} `Cannot run scenario kind "<kind>" on target "<name>": it lacks <caps>` naming
 *   every missing capability.
 * @example
 * ```ts
 * import { requireCapabilities } from "./require_capabilities.ts";
 * const target = { name: "llama.cpp", capabilities: new Set(["step-timed"] as const) };
 * requireCapabilities(target, "grid", ["step-timed"]);
 * let refused = false;
 * try {
 *   requireCapabilities(target, "cache-sweep", ["kv-fill-random"]);
 * } catch (e) {
 *   refused = (e as Error).message.includes("kv-fill-random");
 * }
 * if (!refused) throw new Error("expected a refusal");
 * ```
 */
export function requireCapabilities(
  target: { name: string; capabilities: ReadonlySet<Capability> },
  kind: string,
  needed: readonly Capability[],
): void {
  const missing = needed.filter((c) => !target.capabilities.has(c));
  if (missing.length === 0) return;
  const list = missing.map((c) => `"${c}"`).join(", ");
  throw new Error(
    `Cannot run scenario kind "${kind}" on target "${target.name}": it lacks the ` +
      `capabilit${missing.length === 1 ? "y" : "ies"} ${list}`,
  );
}
