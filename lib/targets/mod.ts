/**
 * Targets: the engines a scenario runs on, behind one interface. `lmrig` (its own library) and
 * `llama.cpp` (the C API of the pinned node-llama-cpp prebuilt); runners drive only
 * {@link Target}.
 * @module
 */
export {
  CAPABILITIES,
  type Capability,
  type Target,
  type TargetCounters,
  type TargetFacts,
  type TargetGenerate,
  type TargetModelInfo,
} from "./types.ts";
export { requireCapabilities } from "./require_capabilities.ts";
export { type LmrigTargetOptions, openLmrigTarget } from "./lmrig.ts";
export { LMRIG_CAPABILITIES, lmrigSessionTarget } from "./lmrig_session_target.ts";
export { generateOnTarget } from "./generate_on_target.ts";
export {
  LLAMA_CPP_CAPABILITIES,
  type LlamaCppTargetOptions,
  type LlamaKvType,
  openLlamaCppTarget,
} from "./llama_cpp.ts";
export { type LlamaLibrary, loadLlama } from "./llama_cpp/load_llama.ts";
export { findLlamaLibrary, type LlamaLibraryLocation } from "./llama_cpp/find_llama_library.ts";
export { QUANT_NAMES, quantizeGguf, type QuantizeOptions } from "./llama_cpp/quantize_gguf.ts";
export { RELEASES } from "./llama_cpp/releases.ts";
export {
  defaultLlamaBackend,
  LLAMA_BACKENDS,
  LLAMA_PACKAGES,
  type LlamaBackend,
  type LlamaPackage,
  llamaPackageFor,
} from "./llama_cpp/llama_package_for.ts";
