/**
 * The markdown benchmark report built from result records.
 * @module
 */
export { buildReport, type ReportChart, type ReportOptions } from "./build_report.ts";
