/** Shared input validation for the stats functions. */

/** Throws unless `samples` is a non-empty array of finite numbers. */
export function checkSamples(what: string, samples: readonly number[]): void {
  if (!Array.isArray(samples)) {
    throw new TypeError(`Cannot ${what}: samples must be an array, got ${typeof samples}`);
  }
  if (samples.length === 0) throw new RangeError(`Cannot ${what}: samples is empty`);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new TypeError(`Cannot ${what}: samples[${i}] must be a finite number, got ${v}`);
    }
  }
}
