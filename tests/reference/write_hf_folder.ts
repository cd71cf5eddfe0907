// Writes a model as a Hugging Face folder: config.json plus model.safetensors, or shards
// model-0000i-of-0000n.safetensors with model.safetensors.index.json, as transformers saves them.

import { join } from "node:path";
import {
  encodeSafetensors,
  type SafetensorsDtype,
  type TensorInput,
} from "./encode_safetensors.ts";
import type { WeightTensor } from "./random_weights.ts";
import type { HfConfig } from "./tiny_config.ts";

/** How to write the folder. */
export interface HfFolderOptions {
  /** Element type of every tensor (config.json's torch_dtype follows it). */
  dtype: SafetensorsDtype;
  /** Number of safetensors files; 1 writes a single model.safetensors with no index. */
  shards?: number;
}

const TORCH_DTYPE = { BF16: "bfloat16", F16: "float16", F32: "float32" } as const;

/**
 * Writes config.json and the weights (rounded to `dtype`) into `dir`, creating it. Tensors go
 * in name order, as safetensors' save_file orders them, split evenly by count across shards.
 *
 * @param dir the folder
 * @param config the model config (torch_dtype is overwritten to match `dtype`)
 * @param weights tensors by Hugging Face name
 * @param options dtype and shard count
 * @throws {RangeError} when shards is not in [1, number of tensors]
 * @example
 * ```ts
 * import { randomWeights } from "./random_weights.ts";
 * import { tinyConfig } from "./tiny_config.ts";
 * const dir = await Deno.makeTempDir();
 * const config = tinyConfig("qwen2");
 * await writeHfFolder(dir, config, randomWeights(config, 1), { dtype: "BF16" });
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeHfFolder(
  dir: string,
  config: HfConfig,
  weights: Record<string, WeightTensor>,
  options: HfFolderOptions,
): Promise<void> {
  const names = Object.keys(weights).sort();
  const shards = options.shards ?? 1;
  if (!Number.isInteger(shards) || shards < 1 || shards > names.length) {
    throw new RangeError(`Cannot shard ${names.length} tensors into ${shards} files`);
  }
  await Deno.mkdir(dir, { recursive: true });
  const fullConfig = { ...config, torch_dtype: TORCH_DTYPE[options.dtype] };
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify(fullConfig, null, 2) + "\n");
  const pad = (i: number): string => String(i).padStart(5, "0");
  const weightMap: Record<string, string> = {};
  let totalBytes = 0;
  for (let s = 0; s < shards; s++) {
    const file = shards === 1
      ? "model.safetensors"
      : `model-${pad(s + 1)}-of-${pad(shards)}.safetensors`;
    const part = names.slice(
      Math.floor((s * names.length) / shards),
      Math.floor(((s + 1) * names.length) / shards),
    );
    const tensors: Record<string, TensorInput> = {};
    for (const name of part) {
      const w = weights[name];
      tensors[name] = { dtype: options.dtype, shape: w.shape, values: w.values };
      weightMap[name] = file;
      totalBytes += w.values.length * (options.dtype === "F32" ? 4 : 2);
    }
    await Deno.writeFile(join(dir, file), encodeSafetensors(tensors, { format: "pt" }));
  }
  if (shards > 1) {
    const index = { metadata: { total_size: totalBytes }, weight_map: weightMap };
    await Deno.writeTextFile(
      join(dir, "model.safetensors.index.json"),
      JSON.stringify(index, null, 2) + "\n",
    );
  }
}
