/** Show a chart inline in a Deno Jupyter notebook. */
import type { ChartSpec } from "./_spec.ts";

/** An object Deno's Jupyter kernel displays as a Vega-Lite chart. */
export interface Displayable {
  [key: symbol]: () => Record<string, unknown>;
}

/**
 * Wrap a spec so that a Deno Jupyter notebook cell ending with it renders the chart inline
 * (mime type application/vnd.vegalite.v5+json; JupyterLab renders it with its Vega extension).
 *
 * @param spec A Vega-Lite spec from a chart function.
 * @returns The displayable object.
 * @throws Nothing; the spec is passed on unchecked (the notebook renders or reports it).
 * @example
 * ```ts
 * import { displayChart } from "./display_chart.ts";
 * const shown = displayChart({ data: { values: [] }, mark: "point" });
 * Object.keys(shown[Symbol.for("Jupyter.display")]()); // ["application/vnd.vegalite.v5+json"]
 * ```
 */
export function displayChart(spec: ChartSpec): Displayable {
  // JupyterLab's renderer is Vega-Lite 5; the specs use only features shared by v5 and v6.
  const v5 = { ...spec, $schema: "https://vega.github.io/schema/vega-lite/v5.json" };
  return {
    [Symbol.for("Jupyter.display")]() {
      return { "application/vnd.vegalite.v5+json": v5 };
    },
  };
}
