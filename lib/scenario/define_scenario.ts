/** The typed helper scenario files call. */
import type { Scenario } from "./types.ts";

/**
 * Declare a scenario; returns it unchanged with its kind checked by the type system.
 * A scenario file default-exports the result; loading validates it (see loadScenario).
 *
 * @param scenario The declaration.
 * @returns The same object.
 * @throws Nothing; validation happens when the file is loaded (loadScenario).
 * @example
 * ```ts
 * import { defineScenario } from "./define_scenario.ts";
 * export default defineScenario({
 *   kind: "grid",
 *   name: "tiny",
 *   cases: [{ id: "A", promptTokens: 8, decodeTokens: 8 }],
 * });
 * ```
 */
export function defineScenario<T extends Scenario>(scenario: T): T {
  return scenario;
}
