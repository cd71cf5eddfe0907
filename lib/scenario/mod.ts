/**
 * Scenario declarations, their validation and loading.
 * @module
 */
export * from "./types.ts";
export { defineScenario } from "./define_scenario.ts";
export { MAX_TOKENS, validateScenario } from "./validate_scenario.ts";
export { loadScenario } from "./load_scenario.ts";
