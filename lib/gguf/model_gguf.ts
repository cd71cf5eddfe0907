/**
 * The GGUF file for a model reference: an lmrig preset (synthesised, saved, converted), a Hugging
 * Face folder (converted) or an existing .gguf file (used as is). Conversions are cached under a
 * cache directory by the content hash of the weights, so both targets read identical tensors and
 * a record can name them.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { Engine } from "../ffi/mod.ts";
import { modelContentHash } from "../env/model_content_hash.ts";
import { hfToGguf } from "./hf_to_gguf.ts";
import type { FloatType } from "./_convert_dtype.ts";

/** Options of {@link modelGguf}. */
export interface ModelGgufOptions {
  /** Element type of the GGUF's 2-D weights (default: as the weights are stored). */
  dtype?: FloatType;
  /** Presets: the seed and layer count of the synthetic weights (as lmrig synthesises them). */
  seed?: number;
  layers?: number;
  /** Presets: the dtype lmrig synthesises in (default bf16). */
  weightDtype?: FloatType;
  /** Where conversions are cached (default $LMRIG_CACHE_DIR or ~/.cache/lmrig, then gguf/). */
  cacheDir?: string;
}

/** What {@link modelGguf} returns. */
export interface ModelGguf {
  path: string;
  /** `sha256:<hex>` of the weights converted (the HF folder's content hash), or of the .gguf. */
  contentHash: string;
  /** Whether the file came from the cache. */
  cached: boolean;
}

/** The default cache folder. */
export function defaultCacheDir(): string {
  const env = Deno.env.get("LMRIG_CACHE_DIR");
  if (env) return env;
  const home = Deno.env.get("HOME") ?? Deno.cwd();
  return join(Deno.env.get("XDG_CACHE_HOME") ?? join(home, ".cache"), "lmrig");
}

async function fileHash(path: string): Promise<string> {
  const h = createHash("sha256");
  using f = await Deno.open(path);
  for await (const chunk of f.readable) h.update(chunk);
  return `sha256:${h.digest("hex")}`;
}

const exists = (p: string) => {
  try {
    return Deno.statSync(p).size > 0;
  } catch {
    return false;
  }
};

/**
 * Resolve a model reference to a GGUF file.
 *
 * @param ref A preset name or config.json path (synthesised by lmrig), a Hugging Face folder, or
 *   a .gguf file.
 * @param options Output dtype, synthesis settings and the cache folder.
 * @returns The GGUF path, the content hash of its weights and whether it was cached.
 * @throws {Error} From synthesis, conversion or a missing file.
 * @example
 * ```ts ignore
 * const { path, contentHash } = await modelGguf("qwen2.5-0.5b", { dtype: "bf16", layers: 2 });
 * ```
 */
export async function modelGguf(ref: string, options: ModelGgufOptions = {}): Promise<ModelGguf> {
  if (ref.endsWith(".gguf")) {
    if (!exists(ref)) throw new Error(`Cannot use model "${ref}": file not found`);
    return { path: ref, contentHash: await fileHash(ref), cached: true };
  }
  const cacheRoot = join(options.cacheDir ?? defaultCacheDir(), "gguf");
  let folder = ref;
  let temp: string | null = null;
  const isFolder = (() => {
    try {
      return Deno.statSync(ref).isDirectory;
    } catch {
      return false;
    }
  })();
  try {
    if (!isFolder) {
      temp = Deno.makeTempDirSync({ prefix: "lmrig-gguf-" });
      using engine = Engine.create({ backend: "cpu", threads: 1 });
      using model = await engine.synthesize(ref, {
        seed: options.seed,
        layers: options.layers,
        dtype: options.weightDtype,
      });
      await model.save(temp);
      folder = temp;
    }
    const hash = await modelContentHash(folder);
    const dir = join(cacheRoot, hash.slice("sha256:".length, "sha256:".length + 16));
    const out = join(dir, `model.${options.dtype ?? "source"}.gguf`);
    if (exists(out)) return { path: out, contentHash: hash, cached: true };
    Deno.mkdirSync(dir, { recursive: true });
    await hfToGguf(folder, out, { dtype: options.dtype });
    return { path: out, contentHash: hash, cached: false };
  } finally {
    if (temp) Deno.removeSync(temp, { recursive: true });
  }
}
