/**
 * The agreement benchmark: the rig's llama.cpp target against a user's `llama-bench` on the same
 * model, threads and sizes (scripts/llama-bench-agreement.ts).
 * @module
 */
export { measurePpTg, type PpTgOptions, type PpTgSamples } from "./measure_pp_tg.ts";
export { type LlamaBenchOptions, type LlamaBenchResult, runLlamaBench } from "./run_llama_bench.ts";
export { type AgreementRow, agreementRows } from "./agreement_rows.ts";
