/**
 * The HTTP target: measuring OpenAI-compatible servers (vLLM, SGLang, llama-server, lmrig serve)
 * with streamed requests timed like vLLM's `bench serve`, a closed/open-loop load generator and
 * the figures of docs/serving.md ("Measuring a served engine over HTTP").
 * @module
 */
export {
  DEFAULT_TIMEOUTS,
  HTTP_ERROR_KINDS,
  type HttpApi,
  type HttpErrorKind,
  type HttpRequestResult,
  type HttpRequestSpec,
  type HttpTimeouts,
  type ServerTimings,
  type TokenSource,
} from "./types.ts";
export { streamCompletion } from "./stream_completion.ts";
export {
  type HttpLoadPlan,
  type HttpLoadRun,
  type LoadRequest,
  type LoadShape,
  runHttpLoad,
} from "./run_http_load.ts";
export { type HttpRunFigures, httpRunFigures, type Slo } from "./http_run_figures.ts";
export { type HttpTargetOptions, runHttpBench } from "./run_http_bench.ts";
export {
  type ScriptedFault,
  type ScriptedServer,
  type ScriptedServerOptions,
  startScriptedServer,
} from "./scripted_server.ts";
