/**
 * Terminal output: tables, sparklines, progress, the bench report.
 * @module
 */
export { formatTable } from "./format_table.ts";
export { sparkline } from "./sparkline.ts";
export { renderGridReport } from "./render_grid_report.ts";
export { Progress } from "./progress.ts";
