/**
 * FFI bindings of the lmrig engine: the only code that touches Deno.dlopen and pointers.
 * @module
 */
export { EngineError } from "./engine_error.ts";
export { findLibrary } from "./find_library.ts";
export { type Library, loadLibrary, type LoadLibraryOptions } from "./load_library.ts";
export { check } from "./check.ts";
export {
  type Counters,
  Engine,
  type EngineInfo,
  type EngineOptions,
  type ModelOptions,
} from "./engine.ts";
export { Model, type ModelInfo, type SessionOptions } from "./model.ts";
export {
  type GenerateResult,
  type GenerateStats,
  type SamplerOptions,
  Session,
  type SessionInfo,
} from "./session.ts";
export { listPresets } from "./list_presets.ts";
export { EXPECTED_ABI_VERSION } from "./symbols.ts";
export * from "./constants.ts";
