/** Quantising a GGUF with llama.cpp's own quantiser (llama_model_quantize), in process, cached. */
import { loadLlama } from "./load_llama.ts";
import { FTYPES } from "./ggml_types.ts";

/** Quantisation names `--quant` accepts. */
export const QUANT_NAMES: readonly string[] = Object.keys(FTYPES);

/** Options of {@link quantizeGguf}. */
export interface QuantizeOptions {
  /** Quantiser threads (default 0: llama.cpp uses every core). */
  threads?: number;
  /** Redo the file even when a cached one exists. */
  force?: boolean;
  /** A user's llama.cpp build folder. */
  libDir?: string;
  /** The ggml backend whose npm package to load (see LlamaCppTargetOptions.backend). */
  backend?: string;
}

/**
 * Quantise `src` to `quant` with llama.cpp's quantiser. The result is cached next to the source
 * as `<src stem>.<quant>.gguf` and reused while it is newer than the source.
 *
 * @param src A GGUF file (F32, F16 or BF16 weights).
 * @param quant One of {@link QUANT_NAMES} (f16, bf16, q8_0, q4_k_m, ...).
 * @param options Threads, force and library folder.
 * @returns The quantised file's path.
 * @throws {RangeError} On an unknown quantisation name.
 * @throws {Error} `Cannot quantise "<src>" to <quant>: <llama.cpp's message>` when it fails.
 * @example
 * ```ts ignore
 * const q4 = await quantizeGguf("/cache/model.f32.gguf", "q4_k_m");
 * ```
 */
export async function quantizeGguf(
  src: string,
  quant: string,
  options: QuantizeOptions = {},
): Promise<string> {
  const q = quant.toLowerCase();
  if (!(q in FTYPES)) {
    throw new RangeError(
      `Unknown quantisation "${quant}": expected one of ${QUANT_NAMES.join(", ")}`,
    );
  }
  let srcStat: Deno.FileInfo;
  try {
    srcStat = Deno.statSync(src);
  } catch {
    throw new Error(`Cannot quantise "${src}" to ${q}: file not found`);
  }
  const stem = src.replace(/\.gguf$/, "").replace(/\.(f32|f16|bf16)$/, "");
  const out = `${stem}.${q}.gguf`;
  if (out === src) return src;
  if (!options.force) {
    try {
      const st = Deno.statSync(out);
      if ((st.mtime?.getTime() ?? 0) >= (srcStat.mtime?.getTime() ?? 0) && st.size > 0) return out;
    } catch { /* not cached yet */ }
  }
  const lib = await loadLlama(options.libDir, undefined, options.backend);
  const sym = lib.symbols;
  const params = sym.llama_model_quantize_default_params();
  lib.release.quantizeParams.write(params, { ftype: FTYPES[q], nthread: options.threads ?? 0 });
  const logStart = lib.log.length;
  const enc = new TextEncoder();
  const tmp = `${out}.tmp`;
  const rc = await sym.llama_model_quantize(enc.encode(src + "\0"), enc.encode(tmp + "\0"), params);
  if (rc !== 0) {
    try {
      Deno.removeSync(tmp);
    } catch { /* nothing written */ }
    const why = lib.log.slice(logStart).filter((e) => e.level === 4).map((e) => e.text.trim()).at(
      -1,
    );
    throw new Error(
      `Cannot quantise "${src}" to ${q}: ${why ?? `llama_model_quantize returned ${rc}`}`,
    );
  }
  Deno.renameSync(tmp, out);
  return out;
}
