// An independent float64 reference of Qwen2/Llama for checking the engine's numerics: safetensors
// encode/decode, Hugging Face folders with seeded random weights, and the forward pass.

export { decodeSafetensors } from "./decode_safetensors.ts";
export type { DecodedSafetensors, DecodedTensor } from "./decode_safetensors.ts";
export { DTYPE_BYTES, encodeSafetensors } from "./encode_safetensors.ts";
export type { SafetensorsDtype, TensorInput } from "./encode_safetensors.ts";
export { forward } from "./forward.ts";
export { greedyDecode } from "./greedy_decode.ts";
export type { GreedyResult } from "./greedy_decode.ts";
export { loadReferenceModel } from "./load_reference_model.ts";
export type { ReferenceModel } from "./load_reference_model.ts";
export { randomWeights } from "./random_weights.ts";
export type { WeightTensor } from "./random_weights.ts";
export { tinyConfig } from "./tiny_config.ts";
export type { HfConfig } from "./tiny_config.ts";
export { writeHfFolder } from "./write_hf_folder.ts";
export type { HfFolderOptions } from "./write_hf_folder.ts";
