/** Vega-Lite spec -> SVG text, headless (no browser, no canvas). */
import * as vega from "vega";
import { compile } from "vega-lite";
import type { ChartSpec } from "./_spec.ts";

/**
 * Compile a Vega-Lite spec and render it to SVG with a headless Vega view. Text widths are
 * estimated (no canvas), so specs leave room around labels.
 *
 * @param spec A Vega-Lite spec (from one of the chart functions).
 * @returns The SVG document.
 * @throws {TypeError} When the spec does not compile.
 * @example
 * ```ts
 * import { renderSvg } from "./render_svg.ts";
 * const svg = await renderSvg({
 *   data: { values: [{ x: 1, y: 2 }] }, mark: "point",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
 * });
 * svg.startsWith("<svg"); // true
 * ```
 */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  let compiled;
  try {
    compiled = compile(spec).spec;
  } catch (e) {
    throw new TypeError(`Cannot render chart: Vega-Lite compile failed: ${(e as Error).message}`);
  }
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
