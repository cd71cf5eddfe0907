/**
 * Opening the targets (and quantised variants) of one bench run, with the figures the bandwidth
 * limits need and the environment entries of the record.
 */
import type { Engine, Model, Session } from "../ffi/mod.ts";
import { modelGguf } from "../gguf/model_gguf.ts";
import type { TargetEnvironment } from "../results/types.ts";
import { openLlamaCppTarget } from "../targets/llama_cpp.ts";
import { quantizeGguf } from "../targets/llama_cpp/quantize_gguf.ts";
import { lmrigSessionTarget } from "../targets/lmrig_session_target.ts";
import type { Target } from "../targets/types.ts";
import { checkTargets } from "./check_targets.ts";
import { lmrigGgufTarget } from "./lmrig_gguf_target.ts";
import type { KindContext } from "./types.ts";

/** One target of a run (a target on one weight variant), with what its limits need. */
export interface RunTarget {
  target: Target;
  /** The name in case ids and `case.target`: `lmrig`, `llama.cpp`, or `llama.cpp:q4_k_m`. */
  label: string;
  /** Bytes one decode step reads (weights), and KV bytes per cached token. */
  decodeBytes: number;
  kvBytesPerToken: number;
}

/** What {@link openRunTargets} needs besides the bench context. */
export interface RunTargetSpec {
  /** The scenario kind (named in refusals). */
  kind: string;
  /** Sequences and tokens per sequence of every target's KV cache. */
  maxSeqs: number;
  maxCtx: number;
  /** lmrig's engine, model and session for this run (its target wraps them; not closed). */
  lmrig: { engine: Engine; model: Model; session: Session };
  /** Target names to open (default the run's: --target, the scenario's, else lmrig). */
  names?: readonly string[];
}

/** The targets opened, their record entries, and notes on variants left out. */
export interface RunTargets {
  targets: RunTarget[];
  environment: TargetEnvironment[];
  warnings: string[];
  /** Close every target opened (lmrig's own engine, model and session stay open). */
  close(): void;
}

/**
 * Open every target of the run, and for `--quant` (or the scenario's `quants`) every quantised
 * variant of the model on it: the same weights written as GGUF in lmrig's dtype (cached), then
 * quantised by llama.cpp's own quantiser (cached next to that GGUF). A variant's decode bytes
 * scale lmrig's decode bytes by the variant's tensor bytes over the source's (llama_model_size),
 * so quantised limits use the quantised size; its KV type is lmrig's (the same bytes per token).
 * lmrig runs its own dtype; a quantised variant on lmrig runs only when the engine loads the
 * GGUF file (capability probe), else it is left out with a warning saying lmrig cannot run it.
 *
 * @param ctx The bench context.
 * @param spec KV size, lmrig's session and the kind.
 * @returns The open targets in run order (targets adjacent per variant), with record entries.
 * @throws {Error} When a target cannot be opened, lacks a capability the kind needs, or no
 *   variant can run at all.
 * @example
 * ```ts ignore
 * const run = await openRunTargets(ctx, { kind: "grid", maxSeqs: 1, maxCtx: 512, lmrig });
 * try { ... } finally { run.close(); }
 * ```
 */
export async function openRunTargets(ctx: KindContext, spec: RunTargetSpec): Promise<RunTargets> {
  const o = ctx.options, mi = ctx.modelInfo, si = spec.lmrig.session.info();
  const names = spec.names ?? o.targets ?? o.scenario.targets ?? ["lmrig"];
  const quants = (o.quants ?? o.scenario.quants ?? []).map((q) => q.toLowerCase());
  const variants = quants.length > 0 ? quants : [mi.dtype];
  const out: RunTargets = {
    targets: [],
    environment: [],
    warnings: [],
    close: () => out.targets.forEach((t) => t.target.close()),
  };
  const synthetic = ctx.modelSpec.startsWith("synthetic:");
  let source: Awaited<ReturnType<typeof modelGguf>> | undefined;
  const sourceGguf = async () => {
    if (source) return source;
    ctx.log(`converting the model to GGUF (${mi.dtype}, cached)`);
    const dtype = mi.dtype as "bf16" | "f16" | "f32";
    source = await modelGguf(synthetic ? ctx.modelSpec.slice(10) : ctx.modelSpec, {
      dtype,
      weightDtype: dtype,
      seed: o.runner.seed,
    });
    return source;
  };
  const files = new Map<string, string>();
  const fileOf = async (quant: string) => {
    const src = await sourceGguf();
    if (quant === mi.dtype) return src.path;
    if (!files.has(quant)) {
      ctx.log(`quantising to ${quant} with llama.cpp's quantiser (cached next to the GGUF)`);
      files.set(
        quant,
        await quantizeGguf(src.path, quant, {
          libDir: o.llamaLib,
          backend: o.llamaBackend,
        }),
      );
    }
    return files.get(quant)!;
  };
  let sourceTensorBytes = 0;
  const label = (name: string, quant: string) =>
    quants.length === 0 || (name === "lmrig" && quant === mi.dtype) ? name : `${name}:${quant}`;
  try {
    for (const quant of variants) {
      for (const name of names) {
        checkTargets([name], spec.kind);
        let target: Target, file: string | undefined;
        if (name === "lmrig") {
          if (quant === mi.dtype) {
            target = lmrigSessionTarget(
              spec.lmrig.engine,
              spec.lmrig.model,
              spec.lmrig.session,
              ctx.modelSpec,
              () => {},
            );
          } else {
            file = await fileOf(quant);
            const opened = await lmrigGgufTarget(spec.lmrig.engine, file, quant, spec);
            if (typeof opened === "string") {
              out.warnings.push(opened);
              ctx.log(opened);
              continue;
            }
            target = opened;
          }
        } else {
          file = await fileOf(quant);
          target = await openLlamaCppTarget({
            model: file,
            threads: ctx.engineInfo.threads,
            maxSeqs: spec.maxSeqs,
            maxCtx: spec.maxCtx,
            kvType: si.kvDtype as "f32" | "f16" | "bf16",
            libDir: o.llamaLib,
            backend: o.llamaBackend,
          });
        }
        const run: RunTarget = {
          target,
          label: label(name, quant),
          decodeBytes: mi.decodeBytes,
          kvBytesPerToken: si.kvBytesPerToken,
        };
        out.targets.push(run);
        const info = target.model();
        if (name !== "lmrig" && quant === mi.dtype) sourceTensorBytes = info.weightBytes;
        if (quant !== mi.dtype) {
          // The variant's real tensor bytes, as a share of the source's.
          if (sourceTensorBytes === 0) {
            using src = await openLlamaCppTarget({
              model: (await sourceGguf()).path,
              maxCtx: 8,
              libDir: o.llamaLib,
              backend: o.llamaBackend,
            });
            sourceTensorBytes = src.model().weightBytes;
          }
          run.decodeBytes = Math.round(mi.decodeBytes * info.weightBytes / sourceTensorBytes);
        }
        const contentHash = name === "lmrig" && quant === mi.dtype
          ? ctx.record.model.contentHash
          : (await sourceGguf()).contentHash;
        out.environment.push({
          ...target.facts(),
          ...(run.label !== name ? { label: run.label } : {}),
          model: {
            ...info,
            ...(file ? { file, fileBytes: Deno.statSync(file).size } : {}),
            contentHash,
          },
        });
      }
    }
  } catch (e) {
    out.close();
    throw e;
  }
  if (out.targets.length === 0) {
    throw new Error(
      `Cannot run "${o.scenario.file}": no target can run any of the variants ` +
        `(${variants.join(", ")}): ${out.warnings.join("; ")}`,
    );
  }
  return out;
}
