/** Reverse look-up in the constant tables of constants.ts. */

/** The name of a numeric code in a name -> value table, or `unknown(<n>)`. */
export function nameOf(table: Record<string, number>, value: number): string {
  for (const [k, v] of Object.entries(table)) if (v === value) return k;
  return `unknown(${value})`;
}
