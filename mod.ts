/**
 * lmrig: the public TypeScript API over the lmrig inference engine: bindings, scenarios, runner,
 * statistics, records, comparisons, charts, the report and tokenizers (lib/dataset and lib/memory
 * are imported from their own mod.ts).
 *
 * @example
 * ```ts
 * import { Engine } from "./mod.ts";
 * using engine = Engine.create({ backend: "cpu" });
 * using model = await engine.synthesize("tiny-qwen2", { seed: 1 });
 * using session = model.createSession({ maxCtx: 256 });
 * const r = await session.generate(0, [17, 42, 99], 16);
 * console.log(r.stats.ttftNs, r.stepNs);
 * ```
 * @module
 */
export * from "./lib/ffi/mod.ts";
export * from "./lib/stats/mod.ts";
export * from "./lib/scenario/mod.ts";
export * from "./lib/runner/mod.ts";
export * from "./lib/results/mod.ts";
export * from "./lib/env/mod.ts";
export * from "./lib/cli/mod.ts";
export * from "./lib/compare/mod.ts";
export * from "./lib/charts/mod.ts";
export * from "./lib/report/mod.ts";
export * from "./lib/http/mod.ts";
export * from "./lib/tokenizer/mod.ts";
export * from "./lib/targets/mod.ts";
export * from "./lib/gguf/mod.ts";
export * from "./lib/serve/mod.ts";
