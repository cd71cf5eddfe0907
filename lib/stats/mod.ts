/**
 * Statistics over raw samples: summaries, quantiles, least-squares fits.
 * Knows nothing of the engine; takes plain arrays.
 * @module
 */
export { summarize } from "./summarize.ts";
export { quantile } from "./quantile.ts";
export { type LinearFit, linearFit } from "./linear_fit.ts";
