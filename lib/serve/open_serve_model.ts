/** Opens the target, tokenizer and end-of-sequence ids that lmrig serve serves. */
import type { BackendName } from "../ffi/constants.ts";
import { modelGguf } from "../gguf/model_gguf.ts";
import { openLlamaCppTarget } from "../targets/llama_cpp.ts";
import { openLmrigTarget } from "../targets/lmrig.ts";
import type { Target } from "../targets/types.ts";
import { loadTokenizer } from "../tokenizer/load_tokenizer.ts";
import type { TextTokenizer } from "../tokenizer/types.ts";
import { eosTokenIds } from "./_eos_token_ids.ts";

/** The targets lmrig serve can serve. */
export const SERVE_TARGETS = ["lmrig", "llama.cpp"] as const;

/** Options of {@link openServeModel}. */
export interface ServeModelOptions {
  target: (typeof SERVE_TARGETS)[number];
  /**
   * `synthetic:PRESET`, `synthetic:path/config.json`, a Hugging Face folder, or (llama.cpp) a
   * `.gguf` file.
   */
  model: string;
  /** A tokenizer spec (see loadTokenizer) when the model's own cannot be found (a .gguf). */
  tokenizer?: string;
  /** Sequence slots (default 4). */
  maxSeqs?: number;
  /** Positions per sequence (default: lmrig's engine default, llama.cpp 2048). */
  maxCtx?: number;
  /** lmrig only: cpu or cuda (default cpu). */
  backend?: BackendName;
  /** Compute threads, 0 = every core (default 0). */
  threads?: number;
  /** Seed of synthetic weights (default 0). */
  seed?: number;
  /** llama.cpp only: a llama.cpp build folder instead of the npm prebuilt. */
  llamaLib?: string;
  /** llama.cpp only: cpu, cuda, vulkan or metal (which npm package; $LMRIG_LLAMA_BACKEND). */
  llamaBackend?: string;
}

/** What {@link openServeModel} opens. */
export interface ServeModel {
  target: Target;
  tokenizer: TextTokenizer;
  eosTokenIds: number[];
  /** Lines worth printing at start-up (stand-in tokenizers, vocabulary mapping). */
  notes: string[];
}

const isDir = (p: string) => {
  try {
    return Deno.statSync(p).isDirectory;
  } catch {
    return false;
  }
};

/**
 * Open the model on its target with `maxSeqs` sequence slots, and its tokenizer. lmrig
 * synthesises a preset or config.json (seeded) or loads a Hugging Face folder; llama.cpp runs a
 * `.gguf` file, or the same weights as lmrig would, converted to GGUF (cached, as the bench
 * does). The tokenizer is the folder's own, the bundled family tokenizer of a preset, or
 * `tokenizer` (required for a bare .gguf).
 *
 * @param o Target, model spec and settings.
 * @returns The open target (the caller closes it), tokenizer, end-of-sequence ids and notes.
 * @throws {RangeError} On an unknown target, a bad model spec or a .gguf without a tokenizer.
 * @throws {Error} When the engine cannot open the model.
 * @example
 * ```ts
 * import { openServeModel } from "./open_serve_model.ts";
 * const m = await openServeModel({ target: "lmrig", model: "synthetic:tiny-qwen2", maxSeqs: 2, maxCtx: 64, threads: 1 });
 * m.target.maxSeqs; // 2
 * m.target.close();
 * ```
 */
export async function openServeModel(o: ServeModelOptions): Promise<ServeModel> {
  if (!SERVE_TARGETS.includes(o.target)) {
    throw new RangeError(
      `Cannot serve on target "${o.target}": expected one of ${SERVE_TARGETS.join(", ")}`,
    );
  }
  const spec = o.model;
  const synthetic = spec.startsWith("synthetic:");
  const gguf = spec.endsWith(".gguf");
  if (!synthetic && !gguf && !isDir(spec)) {
    throw new RangeError(
      `Cannot serve model "${spec}": expected synthetic:PRESET, synthetic:path/config.json, ` +
        `a Hugging Face folder${o.target === "llama.cpp" ? " or a .gguf file" : ""}`,
    );
  }
  if (gguf && o.target !== "llama.cpp") {
    throw new RangeError(`Cannot serve "${spec}" on lmrig: a .gguf file needs --target llama.cpp`);
  }
  const tokSpec = o.tokenizer ?? (gguf ? undefined : spec);
  if (tokSpec === undefined) {
    throw new RangeError(
      `Cannot serve "${spec}": a .gguf file needs --tokenizer (a Hugging Face folder or ` +
        `synthetic:PRESET) to encode prompts`,
    );
  }
  const tokenizer = await loadTokenizer(tokSpec);
  const tokFolder = tokSpec.startsWith("synthetic:") || tokSpec === "whitespace" ? null : tokSpec;
  const eos = await eosTokenIds(tokFolder, tokenizer);
  const threads = o.threads || navigator.hardwareConcurrency || 1;
  const maxSeqs = o.maxSeqs ?? 4;
  const seed = o.seed ?? 0;
  let target: Target;
  if (o.target === "lmrig") {
    target = await openLmrigTarget({
      model: synthetic ? spec.slice("synthetic:".length) : spec,
      load: !synthetic,
      seed,
      backend: o.backend ?? "cpu",
      threads,
      maxSeqs,
      maxCtx: o.maxCtx,
    });
  } else {
    const ref = synthetic ? spec.slice("synthetic:".length) : spec;
    const file = gguf ? ref : (await modelGguf(ref, { seed })).path;
    target = await openLlamaCppTarget({
      model: file,
      threads,
      maxSeqs,
      maxCtx: o.maxCtx ?? 2048,
      libDir: o.llamaLib,
      backend: o.llamaBackend,
    });
  }
  const notes = [...tokenizer.notes];
  const vocab = target.model().vocab;
  if (tokenizer.vocabSize > vocab) {
    notes.push(
      `The tokenizer's ids reach ${tokenizer.vocabSize - 1} but the model's vocabulary has ` +
        `${vocab}: text prompts are encoded and taken modulo ${vocab}`,
    );
  }
  if (eos.every((t) => t >= vocab)) {
    notes.push(`No end-of-sequence id is inside the vocabulary: every request runs to max_tokens`);
  }
  return { target, tokenizer, eosTokenIds: eos, notes };
}
