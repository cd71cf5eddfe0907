/**
 * lmrig serve: a model on a target (lmrig or llama.cpp) served over OpenAI's HTTP API with
 * continuous batching, per-chunk engine timings and bounded queueing.
 * @module
 */
export { type RunningServer, type ServerOptions, startServer } from "./start_server.ts";
export {
  type BatchScheduler,
  type BatchSchedulerOptions,
  createBatchScheduler,
} from "./create_batch_scheduler.ts";
export { createOpenAIHandler, type OpenAIHandlerOptions } from "./create_openai_handler.ts";
export {
  type ParsedRequest,
  parseGenerationRequest,
  type RequestContext,
} from "./parse_generation_request.ts";
export {
  openServeModel,
  SERVE_TARGETS,
  type ServeModel,
  type ServeModelOptions,
} from "./open_serve_model.ts";
export { parseServeArgs, SERVE_USAGE, type ServeArgs } from "./parse_serve_args.ts";
export { sampleLogits, type SamplingParams } from "./sample_logits.ts";
export { formatMetrics } from "./format_metrics.ts";
export { ApiError } from "./api_error.ts";
export type {
  FinishReason,
  GenerationHandle,
  GenerationParams,
  GenerationResult,
  LmrigTimings,
  SchedulerStats,
  TokenEvent,
} from "./types.ts";
