/**
 * GGUF files: writing (v3), reading headers, converting a Hugging Face folder of a qwen2 or llama
 * model, and resolving a model reference (preset, folder, .gguf) to a cached GGUF.
 * @module
 */
export { type GgufTensor, type GgufValue, writeGguf } from "./write_gguf.ts";
export { type GgufInfo, readGgufInfo } from "./read_gguf_info.ts";
export { hfToGguf, type HfToGgufOptions } from "./hf_to_gguf.ts";
export { defaultCacheDir, type ModelGguf, modelGguf, type ModelGgufOptions } from "./model_gguf.ts";
