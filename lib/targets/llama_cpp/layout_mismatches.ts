/** The load-time check of a struct layout against the library's own default params. */
import type { LlamaRelease } from "./releases.ts";

/**
 * Compare the bytes a `*_default_params()` call returned with the release's layout and the
 * values that release's defaults must have. A library of another release shows as a size
 * difference or as fields read at the wrong offsets.
 *
 * @param release The release the binding was chosen for.
 * @param name The struct (`llama_model_params`, `llama_context_params`,
 *   `llama_model_quantize_params`).
 * @param bytes What the library returned.
 * @returns One line per mismatch; empty when the layout matches.
 * @example
 * ```ts
 * import { RELEASES } from "./releases.ts";
 * import { layoutMismatches } from "./layout_mismatches.ts";
 * const r = RELEASES["v0.5.0"];
 * const bytes = new Uint8Array(r.contextParams.size);
 * const out = layoutMismatches(r, "llama_context_params", bytes);
 * if (!out.some((m) => m.startsWith("llama_context_params.n_batch = 0"))) throw new Error("check");
 * ```
 */
export function layoutMismatches(
  release: LlamaRelease,
  name: string,
  bytes: Uint8Array,
): string[] {
  const layout = [release.modelParams, release.contextParams, release.quantizeParams]
    .find((l) => l.name === name);
  if (!layout) throw new RangeError(`Unknown struct "${name}"`);
  if (bytes.byteLength !== layout.size) {
    return [`${name} is ${bytes.byteLength} bytes, expected ${layout.size}`];
  }
  const got = layout.read(bytes);
  const out: string[] = [];
  for (const [k, want] of Object.entries(release.defaults[name])) {
    const g = got[k];
    const same = typeof want === "number" && typeof g === "number"
      ? Math.abs(g - want) < 1e-6
      : g === want;
    if (!same) out.push(`${name}.${k} = ${g}, expected ${want}`);
  }
  return out;
}
