/**
 * The FFI's plain types in one place: options, facts read from the engine's structs, and the
 * owner interfaces through which a Model reaches its engine and a Session its model (so the
 * wrapper classes import each other in one direction only, with no cycle).
 */
import type { BackendName, DtypeOption, ExecutorName } from "./constants.ts";
import type { Library } from "./load_library.ts";

/** What a `Model` needs of the engine that owns it. */
export interface EngineOwner {
  /** The library the engine was created with. */
  readonly library: Library;
  /** The lmr_engine handle (null once closed). */
  readonly pointer: Deno.PointerValue;
}

/** What a `Session` needs of the model that owns it. */
export interface ModelOwner {
  /** The engine owning the model. */
  readonly engine: EngineOwner;
  /** The lmr_model handle (null once closed). */
  readonly pointer: Deno.PointerValue;
  /** The model's facts. */
  info(): ModelInfo;
}

/** Options of `Engine.create`. */
export interface EngineOptions {
  backend?: BackendName;
  /** CPU worker threads; 0 = all online cores. */
  threads?: number;
  /** GPU ordinal. */
  device?: number;
  executor?: ExecutorName;
  /** Time every kernel/op for the counters (adds overhead). */
  profile?: boolean;
  /** The library to use; default `loadLibrary`(). */
  library?: Library;
}

/** lmr_engine_info in camelCase. */
export interface EngineInfo {
  backend: BackendName;
  executor: ExecutorName;
  threads: number;
  cores: number;
  simd: string[];
  simdUsed: string[];
  simdName: string;
  smCount: number;
  computeCapability: number;
  clockKhz: number;
  memClockKhz: number;
  memBusBits: number;
  driverVersion: number;
  runtimeVersion: number;
  hostMemoryBytes: number;
  deviceMemoryBytes: number;
  cpuName: string;
  deviceName: string;
  buildFlags: string;
  /** The git commit the engine was built from (stamped at build time), or null when unknown. */
  commit: string | null;
  /** Whether native/ differed from that commit when it was built; null when unknown. */
  dirty: boolean | null;
}

/** lmr_counters in camelCase (since create or the last reset). */
export interface Counters {
  prefillNs: number;
  decodeNs: number;
  sampleNs: number;
  prefillTokens: number;
  decodeSteps: number;
  decodeTokens: number;
  kernels: number;
  kernelsLastStep: number;
  kernelNs: number;
  lastCallNs: number;
  graphCaptureNs: number;
  peakBytes: number;
  currentBytes: number;
  /** Device energy (mJ) over energyNs of wall time since create/reset (NVML; 0: no figure). */
  energyMj: number;
  /** Wall time the energy covers; 0 when the device has no energy reading. */
  energyNs: number;
}

/** Options of model synthesis and loading. */
export interface ModelOptions {
  /** Synthesize only: weight dtype (default bf16). */
  dtype?: DtypeOption;
  /** Synthesize only: the seed of the random weights. */
  seed?: number;
  /** Synthesize only: override the layer count (0 = as configured). */
  layers?: number;
}

/** lmr_model_info in camelCase. */
export interface ModelInfo {
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  vocab: number;
  maxPositions: number;
  tieEmbeddings: boolean;
  /** The weight dtype holding the most bytes (f32, f16, bf16, q8_0, q4_K, q6_K). */
  dtype: string;
  synthetic: boolean;
  ropeTheta: number;
  rmsEps: number;
  params: number;
  /** Bytes of all weights as stored (quantised: their blocks). */
  weightBytes: number;
  /** Weight bytes one decode step reads (embedding row excluded), from the real tensor sizes. */
  decodeBytes: number;
  /** KV bytes per token at the engine's default KV dtype. */
  kvBytesPerToken: number;
  seed: number;
  loadNs: number;
  arch: string;
  name: string;
  /** Weight types and tensor counts, largest share of bytes first: "q4_K:169,q6_K:29,f32:57". */
  weightTypes: string;
}

/** Options of `Model.createSession`. */
export interface SessionOptions {
  /** Sequences live at once (default 1). */
  maxSeqs?: number;
  /** Tokens per sequence (default min(model max positions, 4096)). */
  maxCtx?: number;
  kvDtype?: DtypeOption;
  /** Tokens per prefill chunk; 0 = backend default. */
  prefillChunk?: number;
  /** KV block size in tokens; 0 = default. */
  blockTokens?: number;
}

/** Sampling settings; the defaults are greedy. */
export interface SamplerOptions {
  /** 0 = greedy. */
  temperature?: number;
  /** 0 = off. */
  topK?: number;
  /** 1 = off. */
  topP?: number;
  seed?: number;
}

/** lmr_session_info in camelCase. */
export interface SessionInfo {
  maxSeqs: number;
  maxCtx: number;
  kvDtype: string;
  blockTokens: number;
  blocks: number;
  freeBlocks: number;
  prefillChunk: number;
  kvBytes: number;
  kvBytesPerToken: number;
}

/** Engine-timed figures of one generate call (lmr_generate_stats). */
export interface GenerateStats {
  ttftNs: number;
  prefillNs: number;
  decodeNs: number;
  sampleNs: number;
  totalNs: number;
  promptTokens: number;
  generatedTokens: number;
}

/** What `Session.generate` returns. */
export interface GenerateResult {
  tokens: number[];
  /** stepNs[0] = TTFT, stepNs[i] = decode step i (forward + sample). */
  stepNs: number[];
  stats: GenerateStats;
}
