/** The model a bench runs when none is given, with the reason printed to the user. */
import type { BackendName } from "../ffi/constants.ts";

/**
 * The default model spec: the real Qwen2.5-1.5B shape on a GPU backend (the project's
 * reference figures), and on the CPU the Qwen2.5-0.5B shape, which runs S1-S6 with the default
 * 3 warm-ups + 5 runs in about 10 minutes on a 2-core x86-64 machine (see docs/methodology.md).
 *
 * @param backend The backend the engine actually uses (never "auto").
 * @param cores Online CPU cores (the reason mentions them).
 * @returns The spec and a one-line reason.
 * @throws Nothing.
 * @example
 * ```ts
 * import { chooseDefaultModel } from "./choose_default_model.ts";
 * chooseDefaultModel("cuda", 16).spec; // "synthetic:qwen2.5-1.5b"
 * ```
 */
export function chooseDefaultModel(
  backend: BackendName,
  cores: number,
): { spec: string; reason: string } {
  if (backend === "cuda" || backend === "metal") {
    return {
      spec: "synthetic:qwen2.5-1.5b",
      reason: `the Qwen2.5-1.5B shape (BF16, 3.09 GB) is the reference model on ${backend}`,
    };
  }
  return {
    spec: "synthetic:qwen2.5-0.5b",
    reason:
      `no --model given on the CPU (${cores} core(s)): the Qwen2.5-0.5B shape reads a third ` +
      `of the 1.5B bytes per step; pass --model synthetic:qwen2.5-1.5b for the reference shape`,
  };
}
