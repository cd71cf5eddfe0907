/**
 * Result records: types, metrics, ids, atomic writing and exports (docs/results-format.md).
 * @module
 */
export * from "./types.ts";
export { makeMetric } from "./make_metric.ts";
export { newRecordId } from "./new_record_id.ts";
export { writeFileAtomic } from "./write_file_atomic.ts";
export { checkOutPath } from "./check_out_path.ts";
export { refusePartial } from "./refuse_partial.ts";
export { writeRecord } from "./write_record.ts";
export { type RecordRow, recordRows } from "./record_rows.ts";
export { readRecord } from "./read_record.ts";
export { formatRecord, RECORD_FORMATS, type RecordFormat } from "./format_record.ts";
