/** The Engine wrapper: one lmr_engine handle, its info, probes, counters and model creation. */
import { check } from "./check.ts";
import {
  type BackendName,
  BACKENDS,
  DTYPES,
  type ExecutorName,
  EXECUTORS,
  SIMD_BITS,
} from "./constants.ts";
import { nameOf } from "./_name_of.ts";
import { assertOpen, checkInt, cString, outPointer, readPointer } from "./_handles.ts";
import { type Library, loadLibrary } from "./load_library.ts";
import { Model } from "./model.ts";
import { COUNTERS, ENGINE_INFO, ENGINE_PARAMS, MODEL_PARAMS } from "./structs.ts";
import type { Counters, EngineInfo, EngineOptions, ModelOptions } from "./types.ts";
export type { Counters, EngineInfo, EngineOptions, ModelOptions } from "./types.ts";

/** The commit stamped at the end of build_flags ("...; commit <sha>[-dirty]"). */
const buildCommit = (flags: string): { commit: string | null; dirty: boolean | null } => {
  const m = flags.match(/; commit ([0-9a-f]{7,40})(-dirty)?$/);
  return m ? { commit: m[1], dirty: m[2] !== undefined } : { commit: null, dirty: null };
};

const bits = (flags: number) => Object.keys(SIMD_BITS).filter((k) => flags & SIMD_BITS[k]);

/**
 * A backend on one device. Owns its handle and every model created from it.
 *
 * @example
 * ```ts
 * import { Engine } from "./engine.ts";
 * using engine = Engine.create({ backend: "cpu", threads: 2 });
 * using model = await engine.synthesize("tiny-qwen2", { seed: 1 });
 * console.log(engine.info().cpuName, model.info().params);
 * ```
 */
export class Engine {
  #ptr: Deno.PointerValue;
  readonly library: Library;
  readonly #models = new Set<Model>();

  private constructor(lib: Library, ptr: Deno.PointerValue) {
    this.library = lib;
    this.#ptr = ptr;
  }

  /**
   * Create an engine.
   * @throws {EngineError} When the backend is not available or its device fails.
   * @throws {RangeError} On an unknown backend/executor or a bad thread count.
   */
  static create(options: EngineOptions = {}): Engine {
    const lib = options.library ?? loadLibrary();
    const backend = options.backend ?? "auto";
    const executor = options.executor ?? "eager";
    if (!(backend in BACKENDS)) {
      throw new RangeError(`Unknown backend "${backend}": expected auto, cpu, cuda or metal`);
    }
    if (!(executor in EXECUTORS)) {
      throw new RangeError(`Unknown executor "${executor}": expected eager or graph`);
    }
    checkInt("threads", options.threads ?? 0, 0, 4096);
    checkInt("device", options.device ?? 0, 0, 1024);
    const sym = lib.symbols;
    const params = new Uint8Array(sym.lmr_engine_params_default());
    const p: Record<string, number> = { backend: BACKENDS[backend], executor: EXECUTORS[executor] };
    if (options.threads !== undefined) p.n_threads = options.threads;
    if (options.device !== undefined) p.device = options.device;
    if (options.profile !== undefined) p.profile = options.profile ? 1 : 0;
    ENGINE_PARAMS.write(params, p);
    const out = outPointer();
    check(lib, sym.lmr_engine_create(params, out), null, `Cannot create a ${backend} engine`);
    return new Engine(lib, readPointer(out));
  }

  /** The raw handle (for the other wrapper classes). */
  get pointer(): Deno.PointerObject {
    assertOpen(this.#ptr, "the engine");
    return this.#ptr;
  }

  /** Device and build facts. */
  info(): EngineInfo {
    const sym = this.library.symbols;
    const buf = new Uint8Array(sym.lmr_engine_info_default());
    check(
      this.library,
      sym.lmr_engine_info_get(this.pointer, buf),
      this.#ptr,
      "Cannot read engine info",
    );
    const v = ENGINE_INFO.read(buf) as Record<string, number> & Record<string, string>;
    return {
      backend: nameOf(BACKENDS, v.backend) as BackendName,
      executor: nameOf(EXECUTORS, v.executor) as ExecutorName,
      threads: v.n_threads,
      cores: v.n_cores,
      simd: bits(v.simd_flags),
      simdUsed: bits(v.simd_used),
      simdName: v.simd_name,
      smCount: v.sm_count,
      computeCapability: v.compute_capability,
      clockKhz: v.clock_khz,
      memClockKhz: v.mem_clock_khz,
      memBusBits: v.mem_bus_bits,
      driverVersion: v.driver_version,
      runtimeVersion: v.runtime_version,
      hostMemoryBytes: v.host_memory_bytes,
      deviceMemoryBytes: v.device_memory_bytes,
      cpuName: v.cpu_name,
      deviceName: v.device_name,
      buildFlags: v.build_flags,
      ...buildCommit(v.build_flags),
    };
  }

  /**
   * Measure read bandwidth: `reps` passes over `bytes` after one untimed pass.
   * @returns One sample per rep, bytes per second.
   */
  async probeBandwidth(bytes: number, reps: number): Promise<number[]> {
    checkInt("bytes", bytes, 1, Number.MAX_SAFE_INTEGER);
    checkInt("reps", reps, 1, 10000);
    const out = new Float64Array(reps);
    const status = await this.library.symbols.lmr_probe_bandwidth(
      this.pointer,
      BigInt(bytes),
      reps,
      out,
    );
    check(this.library, status, this.#ptr, "Cannot probe memory bandwidth");
    return [...out];
  }

  /** Mean cost of one empty dispatch, eager and graph, in ns. */
  async probeLaunch(n: number): Promise<{ eagerNs: number; graphNs: number }> {
    checkInt("n", n, 1);
    const eager = new Float64Array(1), graph = new Float64Array(1);
    const status = await this.library.symbols.lmr_probe_launch(this.pointer, n, eager, graph);
    check(this.library, status, this.#ptr, "Cannot probe launch overhead");
    return { eagerNs: eager[0], graphNs: graph[0] };
  }

  /** Engine counters since create or the last reset. */
  counters(): Counters {
    const sym = this.library.symbols;
    const buf = new Uint8Array(sym.lmr_counters_default());
    check(this.library, sym.lmr_counters_get(this.pointer, buf), this.#ptr, "Cannot read counters");
    const v = COUNTERS.read(buf) as Record<string, number>;
    return {
      prefillNs: v.prefill_ns,
      decodeNs: v.decode_ns,
      sampleNs: v.sample_ns,
      prefillTokens: v.prefill_tokens,
      decodeSteps: v.decode_steps,
      decodeTokens: v.decode_tokens,
      kernels: v.kernels,
      kernelsLastStep: v.kernels_last_step,
      kernelNs: v.kernel_ns,
      lastCallNs: v.last_call_ns,
      graphCaptureNs: v.graph_capture_ns,
      peakBytes: v.peak_bytes,
      currentBytes: v.current_bytes,
      energyMj: v.energy_mj,
      energyNs: v.energy_ns,
    };
  }

  /** Reset the counters (peak bytes restart from the current allocation). */
  resetCounters(): void {
    const status = this.library.symbols.lmr_counters_reset(this.pointer);
    check(this.library, status, this.#ptr, "Cannot reset counters");
  }

  /**
   * Build a model with seeded random weights from a preset name or a config.json path.
   * @throws {EngineError} On an unknown preset or unsupported config.
   */
  synthesize(spec: string, options: ModelOptions = {}): Promise<Model> {
    return this.#createModel(
      "lmr_model_synthesize",
      spec,
      options,
      `Cannot synthesize model "${spec}"`,
    );
  }

  /**
   * Load a Hugging Face folder (config.json + safetensors), a GGUF file (qwen2 or llama; F32,
   * F16, BF16, Q8_0, Q4_K, Q6_K tensors), or a folder without config.json holding one .gguf.
   * @throws {EngineError} When the path or its files are missing, malformed or unsupported.
   */
  load(dir: string): Promise<Model> {
    return this.#createModel("lmr_model_load", dir, {}, `Cannot load model "${dir}"`);
  }

  async #createModel(
    fn: "lmr_model_synthesize" | "lmr_model_load",
    spec: string,
    options: ModelOptions,
    what: string,
  ): Promise<Model> {
    const sym = this.library.symbols;
    const params = new Uint8Array(sym.lmr_model_params_default());
    const p: Record<string, number> = {};
    if (options.dtype !== undefined) {
      if (!(options.dtype in DTYPES)) {
        throw new RangeError(`Unknown dtype "${options.dtype}": expected bf16, f16 or f32`);
      }
      p.dtype = DTYPES[options.dtype];
    }
    if (options.seed !== undefined) {
      checkInt("seed", options.seed, 0, Number.MAX_SAFE_INTEGER);
      p.seed = options.seed;
    }
    if (options.layers !== undefined) {
      checkInt("layers", options.layers, 0, 4096);
      p.n_layers = options.layers;
    }
    MODEL_PARAMS.write(params, p);
    const out = outPointer();
    const status = await sym[fn](this.pointer, cString(spec), params, out);
    check(this.library, status, this.#ptr, what);
    const model = new Model(this, readPointer(out), () => this.#models.delete(model));
    this.#models.add(model);
    return model;
  }

  /** Destroy the engine, closing its models (and their sessions) first. Idempotent. */
  close(): void {
    if (this.#ptr === null) return;
    for (const m of [...this.#models]) m.close();
    this.library.symbols.lmr_engine_destroy(this.#ptr);
    this.#ptr = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
