/** lmrig on a GGUF file (a quantised variant), behind a probe of what the engine can load. */
import type { Engine } from "../ffi/mod.ts";
import { lmrigSessionTarget } from "../targets/lmrig_session_target.ts";
import type { Target } from "../targets/types.ts";

/**
 * Open lmrig on a GGUF file when its engine can load one: the file is passed to the engine's
 * model loader (`lmr_model_load`) as it is, and the engine's answer is the capability check. An
 * engine that cannot load it yet gives a note instead of a target, so the variant is left out
 * of the run with that note (the run goes on with the variants that can run).
 *
 * @param engine lmrig's engine of the run.
 * @param file The .gguf file.
 * @param quant The variant's name (`q4_k_m`, ...), for the note.
 * @param size Sequences and tokens per sequence of the session.
 * @returns The target, or the note `lmrig cannot run Q4_K_M yet: ...` when the engine refuses.
 * @throws Nothing of its own: an engine refusal becomes the note.
 * @example
 * ```ts ignore
 * const t = await lmrigGgufTarget(engine, "model.q4_k_m.gguf", "q4_k_m", { maxSeqs: 1, maxCtx: 64 });
 * if (typeof t === "string") console.log(t);
 * ```
 */
export async function lmrigGgufTarget(
  engine: Engine,
  file: string,
  quant: string,
  size: { maxSeqs: number; maxCtx: number },
): Promise<Target | string> {
  let model;
  try {
    model = await engine.load(file);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return `lmrig cannot run ${quant.toUpperCase()} yet: its engine does not load the GGUF ` +
      `file (${why}); the lmrig:${quant} variant is left out`;
  }
  try {
    const session = model.createSession({ maxSeqs: size.maxSeqs, maxCtx: size.maxCtx });
    const m = model;
    return lmrigSessionTarget(engine, model, session, file, () => {
      session.close();
      m.close();
    });
  } catch (e) {
    model.close();
    throw e;
  }
}
