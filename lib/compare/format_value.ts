/** Human-readable numbers for tables: durations in ms, rates, bytes, ratios. */

/**
 * Format a value of the given unit for a table: `ns` as milliseconds (or microseconds when
 * small), `tokens/s` with one decimal, `bytes` and `bytes/s` in decimal GB/MB, `ratio` as a
 * percentage, anything else as a plain number with 3 significant digits.
 *
 * @param value The value, in `unit`.
 * @param unit A record unit ("ns", "tokens/s", "bytes", "bytes/s", "ratio", "count", ...).
 * @param withUnit Append the unit (default true).
 * @param scaleOf Pick the scale (s/ms/us, GB/MB) from this value instead, so a standard deviation
 *   reads in its median's scale.
 * @returns The formatted text ("n/a" for null or non-finite values).
 * @throws Nothing; null and non-finite values print as "n/a".
 * @example
 * ```ts
 * import { formatValue } from "./format_value.ts";
 * formatValue(12_345_678, "ns"); // "12.35 ms"
 * formatValue(3.09e9, "bytes"); // "3.09 GB"
 * formatValue(0.955, "ratio"); // "95.5%"
 * ```
 */
export function formatValue(
  value: number | null | undefined,
  unit: string,
  withUnit = true,
  scaleOf?: number,
): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "n/a";
  const u = (text: string, suffix: string) => withUnit ? `${text} ${suffix}` : text;
  switch (unit) {
    case "ns": {
      const ms = value / 1e6;
      const ref = Math.abs((scaleOf ?? value) / 1e6);
      if (ref >= 1000) return u((ms / 1000).toFixed(2), "s");
      if (ref >= 0.1) return u(ms.toFixed(ref >= 100 ? 1 : ref >= 10 ? 2 : 3), "ms");
      return u(sig(value / 1e3, 3), "us");
    }
    case "tokens/s":
      return u(value >= 100 ? value.toFixed(0) : value.toFixed(1), "tok/s");
    case "bytes":
    case "bytes/s": {
      const tail = unit === "bytes" ? "" : "/s";
      const ref = Math.abs(scaleOf ?? value);
      if (ref >= 1e9) return u((value / 1e9).toFixed(2), `GB${tail}`);
      if (ref >= 1e6) return u((value / 1e6).toFixed(1), `MB${tail}`);
      if (ref >= 1e3) return u((value / 1e3).toFixed(1), `KB${tail}`);
      return u(value.toFixed(0), `B${tail}`);
    }
    case "ratio":
      return withUnit ? `${(value * 100).toFixed(1)}%` : (value * 100).toFixed(1);
    default:
      return u(sig(value, 3), unit === "count" ? "" : unit).trim();
  }
}

/** `digits` significant digits, without exponent notation and without trailing zeros. */
function sig(x: number, digits: number): string {
  if (x === 0) return "0";
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(Math.abs(x))));
  return x.toFixed(Math.min(decimals, 6));
}
