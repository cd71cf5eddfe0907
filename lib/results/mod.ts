/**
 * Result records: types, building and writing (docs/results-format.md).
 * @module
 */
export * from "./types.ts";
