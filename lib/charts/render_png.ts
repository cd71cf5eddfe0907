/** Vega-Lite spec -> PNG bytes via SVG and resvg, with the fonts shipped in assets/fonts. */
import { Resvg } from "@resvg/resvg-js";
import { renderSvg } from "./render_svg.ts";
import type { ChartSpec } from "./_spec.ts";
import { FONT } from "./_spec.ts";

const FONT_FILES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"].map((f) =>
  decodeURIComponent(new URL(`../../assets/fonts/${f}`, import.meta.url).pathname)
);

/** Size and sharpness of the PNG. */
export interface PngOptions {
  /** Pixels per SVG unit (default 2, for sharp text on high-density screens). */
  scale?: number;
}

/**
 * Render a Vega-Lite spec (or an SVG document already rendered) to PNG. Only the shipped DejaVu
 * fonts are used, never system fonts, so text looks the same on every machine.
 *
 * @param chart A Vega-Lite spec or SVG text.
 * @param options The scale.
 * @returns PNG bytes; the image is the SVG's width and height times the scale.
 * @throws {TypeError} When the spec does not compile or the SVG cannot be parsed.
 * @example
 * ```ts
 * import { renderPng } from "./render_png.ts";
 * const png = await renderPng({
 *   data: { values: [{ x: 1, y: 2 }] }, mark: "point",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
 * });
 * png[1] === 0x50; // true ("PNG" signature)
 * ```
 */
export async function renderPng(
  chart: ChartSpec | string,
  options: PngOptions = {},
): Promise<Uint8Array> {
  const scale = options.scale ?? 2;
  if (!(scale > 0 && scale <= 8)) {
    throw new RangeError(`Cannot render PNG: scale must be in (0, 8], got ${scale}`);
  }
  const svg = typeof chart === "string" ? chart : await renderSvg(chart);
  try {
    const resvg = new Resvg(svg, {
      fitTo: { mode: "zoom", value: scale },
      font: { fontFiles: FONT_FILES, loadSystemFonts: false, defaultFontFamily: FONT },
      background: "white",
    });
    return resvg.render().asPng();
  } catch (e) {
    throw new TypeError(`Cannot render PNG: ${(e as Error).message}`);
  }
}
