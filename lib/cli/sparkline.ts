/** A row of block characters showing a series' shape. */

const BLOCKS = "▁▂▃▄▅▆▇█";

/**
 * A sparkline of `values`, resampled to at most `width` characters (each the mean of its bin),
 * scaled between the series' min and max.
 *
 * @param values The series (finite numbers).
 * @param width Most characters (default 64).
 * @returns The sparkline ("" for an empty series).
 * @example
 * ```ts
 * import { sparkline } from "./sparkline.ts";
 * sparkline([1, 2, 3, 4, 5, 6, 7, 8]); // "▁▂▃▄▅▆▇█"
 * ```
 */
export function sparkline(values: readonly number[], width = 64): string {
  if (values.length === 0) return "";
  const bins = Math.min(width, values.length);
  const means: number[] = [];
  for (let b = 0; b < bins; b++) {
    const lo = Math.floor((b * values.length) / bins);
    const hi = Math.floor(((b + 1) * values.length) / bins);
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += values[i];
    means.push(sum / (hi - lo));
  }
  const min = Math.min(...means), max = Math.max(...means);
  const span = max - min;
  return means.map((v) => BLOCKS[span === 0 ? 3 : Math.min(7, Math.floor(((v - min) / span) * 8))])
    .join("");
}
