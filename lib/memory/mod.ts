/**
 * Memory and limits: KV and weight sizes with projections, and the bandwidth limits of decode
 * with the utilisation of measured figures. Plain numbers in, rows out (no engine).
 * @module
 */
export { CONTEXT_LENGTHS, type MemoryFacts, type MemoryRow, memoryTable } from "./memory_table.ts";
export { type LimitRow, limitsTable, type MeasuredDecode } from "./limits_table.ts";
export { memoryDerived, type MemoryDerivedFacts } from "./memory_derived.ts";
