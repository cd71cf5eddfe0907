/**
 * Dataset-driven benchmark parameters: read a dataset (JSONL, JSON array, CSV; ShareGPT,
 * OpenAI messages, Alpaca or named fields), count prompt and output tokens, summarise them and
 * choose n-prompt / n-predict by coverage.
 * @module
 */
export { readDataset } from "./read_dataset.ts";
export { lengthStats } from "./length_stats.ts";
export {
  DEFAULT_N_PREDICT_CANDIDATES,
  type ParameterChoice,
  recommendParameters,
} from "./recommend_parameters.ts";
export {
  analyzeDataset,
  type AnalyzeDatasetOptions,
  type DatasetAnalysis,
} from "./analyze_dataset.ts";
export { formatAnalysisMarkdown } from "./format_analysis_markdown.ts";
export { datasetScenarioSource } from "./dataset_scenario_source.ts";
export type * from "./types.ts";
