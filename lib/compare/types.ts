/** Types of a comparison between result records (what compareRecords returns). */

/** The judgement of one ratio against the noise threshold and its interval. */
export type Verdict = "faster" | "slower" | "better" | "worse" | "within noise";

/** One record's figure relative to the baseline. */
export interface RatioCell {
  /** median(record) / median(baseline). */
  ratio: number;
  /** Bootstrap interval of the ratio. */
  low: number;
  high: number;
  /** (ratio - 1) * 100. */
  changePct: number;
  /** Change in the metric's better direction: +10 is 10% better, -10 is 10% worse. */
  improvementPct: number;
  verdict: Verdict;
}

/** One figure of one matched case across all records. */
export interface ComparisonRow {
  /** The case params that matched it, as sorted `k=v` pairs. */
  key: string;
  /** The baseline case's params in its own order, e.g. "promptTokens=16, decodeTokens=32". */
  params: string;
  /** Case id per record (null where the record lacks the case). */
  caseIds: (string | null)[];
  metric: string;
  unit: string;
  better: "lower" | "higher";
  /** Median of the raw samples per record (null where missing). */
  medians: (number | null)[];
  /** Sample standard deviation per record (null where missing). */
  stddevs: (number | null)[];
  /** Ratio to the baseline per record (null for the baseline and where missing). */
  cells: (RatioCell | null)[];
}

/** A case found in one record with no partner in another. */
export interface Unmatched {
  /** Label of the record that has the case. */
  record: string;
  caseId: string;
  /** Its params as sorted `k=v` pairs. */
  params: string;
  /** Which record lacks it, e.g. "not in baseline grid-a". */
  reason: string;
}

/** The result of compareRecords. */
export interface Comparison {
  /** One label per record, in the order given. */
  labels: string[];
  /** Index of the baseline record. */
  baseline: number;
  thresholdPct: number;
  confidence: number;
  /** Params left out of matching because the engines differ in them ("backend", "executor"). */
  ignoredParams: string[];
  rows: ComparisonRow[];
  unmatched: Unmatched[];
  warnings: string[];
}
