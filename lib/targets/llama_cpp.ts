/**
 * The llama.cpp target: a GGUF model and one llama_context with a KV cache for `maxSeqs`
 * sequences (one seq id per worker), driven through the C API of the pinned prebuilt library.
 * Every default that changes figures is set explicitly and reported in `facts().settings`.
 */
import { loadLlama } from "./llama_cpp/load_llama.ts";
import { FTYPE_NAMES, GGML_TYPES } from "./llama_cpp/ggml_types.ts";
import { nativeBatch } from "./llama_cpp/_native_batch.ts";
import { checkInt, DECODE_STATUS, KV_BYTES, metaOf } from "./llama_cpp/_context_helpers.ts";
import type { Capability, Target, TargetCounters, TargetFacts, TargetModelInfo } from "./types.ts";

/** KV cache element types this target accepts. */
export type LlamaKvType = "f32" | "f16" | "bf16" | "q8_0";

/** Options of {@link openLlamaCppTarget}. */
export interface LlamaCppTargetOptions {
  /** A .gguf file. */
  model: string;
  /** Compute threads for decode and prefill (llama.cpp's default is 4; default here 1). */
  threads?: number;
  /** Sequences the KV cache holds, one seq id each (default 1). */
  maxSeqs?: number;
  /** Tokens per sequence (default 512). */
  maxCtx?: number;
  /** Flash attention (default off: "auto" turns it on for the CPU and changes the numerics). */
  flashAttn?: boolean;
  /** KV cache type for K and V (default f16, llama.cpp's). */
  kvType?: LlamaKvType;
  /** Logical batch: tokens per llama_decode call (default min(maxCtx * maxSeqs, 2048)). */
  nBatch?: number;
  /** Micro-batch (default 512, llama.cpp's). */
  nUbatch?: number;
  /** A user's llama.cpp build folder instead of the npm package (or $LMRIG_LLAMA_LIB). */
  libDir?: string;
  /**
   * The ggml backend: `cpu`, `cuda`, `vulkan` or `metal` (default `$LMRIG_LLAMA_BACKEND`, else
   * metal on macOS arm64, cpu elsewhere). It picks the npm package; a GPU backend puts every
   * layer and the KV cache on the GPU, cpu keeps them on the CPU.
   */
  backend?: string;
  /** Append llama.cpp's log to this file as well. */
  debugLogPath?: string;
}

/** What llama.cpp can do (docs/targets.md), known before the library loads. */
export const LLAMA_CPP_CAPABILITIES: readonly Capability[] = [
  "prefill-timed",
  "step-timed",
  "batched-decode",
  "kv-fill-prefill",
  "per-step-times",
  "counters",
  "sampling",
  "logits",
];

/**
 * Open llama.cpp as a target on a GGUF file.
 *
 * @param options The model file and the context settings.
 * @returns The target; close it (or `using`) to free the context and the model.
 * @throws {Error} When the library cannot be loaded (see {@link loadLlama}), or the model or the
 *   context cannot be created; the message carries llama.cpp's own last error line.
 * @throws {RangeError} On a bad thread count, sequence count or context size.
 * @example
 * ```ts ignore
 * import { openLlamaCppTarget } from "./llama_cpp.ts";
 * using t = await openLlamaCppTarget({ model: "model.gguf", threads: 2, maxSeqs: 4 });
 * const prefillNs = await t.prefill(0, [1, 2, 3]);
 * const stepNs = await t.decode([0], [t.sample(0).token]);
 * ```
 */
export async function openLlamaCppTarget(options: LlamaCppTargetOptions): Promise<Target> {
  const threads = options.threads ?? 1;
  const maxSeqs = options.maxSeqs ?? 1;
  const maxCtx = options.maxCtx ?? 512;
  const flashAttn = options.flashAttn ?? false;
  const kvType = options.kvType ?? "f16";
  checkInt("threads", threads, 1, 4096);
  checkInt("maxSeqs", maxSeqs, 1, 256);
  checkInt("maxCtx", maxCtx, 1);
  const nBatch = options.nBatch ?? Math.min(maxCtx * maxSeqs, 2048);
  const nUbatch = options.nUbatch ?? Math.min(512, nBatch);
  checkInt("nBatch", nBatch, Math.max(1, maxSeqs));
  checkInt("nUbatch", nUbatch, 1, nBatch);
  if (!(kvType in GGML_TYPES)) {
    throw new RangeError(`Unknown KV type "${kvType}": expected f32, f16, bf16 or q8_0`);
  }
  try {
    Deno.statSync(options.model);
  } catch {
    throw new Error(`Cannot load model "${options.model}": file not found`);
  }
  const lib = await loadLlama(options.libDir, options.debugLogPath, options.backend);
  const onGpu = lib.location.backend !== "cpu";
  const gpuLayers = onGpu ? -1 : 0; // -1: every layer
  const sym = lib.symbols;
  const r = lib.release;
  const logStart = lib.log.length;
  const lastError = () => {
    const since = lib.log.slice(logStart);
    const errs = since.filter((e) => e.level === 4);
    const lines = (errs.length > 0 ? errs : since.filter((e) => e.level === 3)).map((e) =>
      e.text.trim()
    );
    return lines.length > 0 ? lines.slice(-3).join("; ") : "no message from llama.cpp";
  };

  const mp = sym.llama_model_default_params();
  r.modelParams.write(mp, { n_gpu_layers: gpuLayers, check_tensors: false });
  const path = new TextEncoder().encode(options.model + "\0");
  const model = await sym.llama_model_load_from_file(path, mp);
  if (model === null) {
    throw new Error(`Cannot load model "${options.model}": ${lastError()}`);
  }
  // Refuse a KV cache larger than the machine's memory before llama.cpp tries to allocate it.
  const arch = metaOf(sym, model, "general.architecture");
  const keyLength = Number(metaOf(sym, model, `${arch}.attention.key_length`)) ||
    sym.llama_model_n_embd(model) / sym.llama_model_n_head(model);
  const kvBytes = maxCtx * maxSeqs * sym.llama_model_n_layer(model) * 2 *
    sym.llama_model_n_head_kv(model) * keyLength * KV_BYTES[kvType];
  const memBytes = Deno.systemMemoryInfo().total;
  if (kvBytes > memBytes) {
    sym.llama_model_free(model);
    throw new Error(
      `Cannot create a llama.cpp context of ${maxSeqs} x ${maxCtx} tokens on ` +
        `"${options.model}": its ${kvType} KV cache needs ${(kvBytes / 2 ** 30).toFixed(1)} GiB, ` +
        `more than the machine's ${(memBytes / 2 ** 30).toFixed(1)} GiB`,
    );
  }
  const cp = sym.llama_context_default_params();
  const settings = {
    n_ctx: maxCtx * maxSeqs,
    n_batch: nBatch,
    n_ubatch: nUbatch,
    n_seq_max: maxSeqs,
    n_threads: threads,
    n_threads_batch: threads,
    flash_attn_type: flashAttn ? 1 : 0,
    type_k: GGML_TYPES[kvType],
    type_v: GGML_TYPES[kvType],
    no_perf: false,
    kv_unified: false,
    offload_kqv: onGpu,
    op_offload: onGpu,
  };
  r.contextParams.write(cp, settings);
  const ctx = await sym.llama_init_from_model(model, cp);
  if (ctx === null) {
    sym.llama_model_free(model);
    throw new Error(
      `Cannot create a llama.cpp context of ${maxSeqs} x ${maxCtx} tokens on ` +
        `"${options.model}": ${lastError()}`,
    );
  }
  const mem = sym.llama_get_memory(ctx);
  const vocab = sym.llama_vocab_n_tokens(sym.llama_model_get_vocab(model));

  const nb = nativeBatch(lib, nBatch);
  const cap = nb.capacity, batch = nb.struct;
  const tokenArr = nb.token, posArr = nb.pos, seqArr = nb.seqId, outArr = nb.logits;

  const seqLens = new Int32Array(maxSeqs);
  // Which output row of the latest llama_decode holds each sequence's logits (-1: none).
  const outputRow = new Int32Array(maxSeqs).fill(-1);
  let closed = false;

  const checkSeq = (seq: number) => {
    if (closed) throw new Error("Cannot use the llama.cpp target: it is closed");
    checkInt("seq", seq, 0, maxSeqs - 1);
  };

  /** One llama_decode of batch[0, n), timed natively around the synchronising call. */
  const run = (n: number, what: string): number => {
    r.batch.write(batch, { n_tokens: n });
    const t0 = lib.nowNs();
    const rc = sym.llama_decode(ctx, batch);
    sym.llama_synchronize(ctx);
    const t1 = lib.nowNs();
    if (rc !== 0) {
      throw new Error(
        `Cannot ${what}: llama_decode returned ${rc} (${DECODE_STATUS[rc] ?? lastError()})`,
      );
    }
    return t1 - t0;
  };

  const prefill = (seq: number, tokens: ArrayLike<number>): number => {
    checkSeq(seq);
    const n = tokens.length;
    if (n === 0) throw new RangeError(`Cannot prefill sequence ${seq}: no tokens`);
    if (seqLens[seq] + n > maxCtx) {
      throw new RangeError(
        `Cannot prefill sequence ${seq} with ${n} tokens: ${seqLens[seq]} + ${n} exceeds the ` +
          `context of ${maxCtx} tokens`,
      );
    }
    for (let i = 0; i < n; i++) {
      const t = tokens[i];
      if (!Number.isInteger(t) || t < 0 || t >= vocab) {
        throw new RangeError(`Token ${i} of sequence ${seq} is ${t}: expected 0..${vocab - 1}`);
      }
    }
    let ns = 0;
    outputRow.fill(-1);
    for (let start = 0; start < n; start += cap) {
      const m = Math.min(cap, n - start);
      for (let i = 0; i < m; i++) {
        tokenArr[i] = tokens[start + i];
        posArr[i] = seqLens[seq] + i;
        seqArr[i][0] = seq;
        outArr[i] = 0;
      }
      const last = start + m === n;
      if (last) outArr[m - 1] = 1;
      ns += run(m, `prefill sequence ${seq}`);
      seqLens[seq] += m;
      if (last) outputRow[seq] = m - 1;
    }
    return ns;
  };

  const logitsView = (seq: number): Float32Array => {
    checkSeq(seq);
    const row = outputRow[seq];
    if (row < 0) {
      throw new Error(
        `Cannot read the logits of sequence ${seq}: the latest llama_decode did not compute them`,
      );
    }
    const p = sym.llama_get_logits_ith(ctx, row);
    if (p === null) throw new Error(`Cannot read the logits of sequence ${seq}: ${lastError()}`);
    return new Float32Array(Deno.UnsafePointerView.getArrayBuffer(p, vocab * 4));
  };

  const perf = () => r.perfContextData.read(sym.llama_perf_context(ctx)) as Record<string, number>;
  const fileType = (() => {
    const buf = new Uint8Array(64);
    const key = new TextEncoder().encode("general.file_type\0");
    return sym.llama_model_meta_val_str(model, key, buf, 64n) > 0
      ? FTYPE_NAMES[Number(new TextDecoder().decode(buf.subarray(0, buf.indexOf(0))))] ?? "?"
      : "?";
  })();
  const meta = (k: string) => metaOf(sym, model, k);

  const target: Target = {
    name: "llama.cpp",
    capabilities: new Set(LLAMA_CPP_CAPABILITIES),
    maxSeqs,
    maxCtx,
    facts(): TargetFacts {
      const loc = lib.location;
      return {
        name: "llama.cpp",
        version: lib.version,
        build: loc.source === "npm"
          ? `npm ${loc.npmPackage}@${loc.npmVersion} (llama.cpp ${lib.release.release})`
          : `user build ${loc.dir} (bound as llama.cpp ${lib.release.release})`,
        libraryPath: lib.libllamaPath,
        threads,
        backend: [
          ...(onGpu ? lib.devices.filter((d) => d.name !== "CPU").map((d) => d.name) : []),
          lib.cpuVariant ? `CPU (${lib.cpuVariant})` : "CPU",
        ].join(" + "),
        kvFill: "prefill",
        settings: {
          flashAttn,
          kvType,
          nBatch: sym.llama_n_batch(ctx),
          nUbatch: sym.llama_n_ubatch(ctx),
          nCtx: sym.llama_n_ctx(ctx),
          nSeqMax: sym.llama_n_seq_max(ctx),
          threads,
          noPerf: false,
          kvUnified: false,
          gpuLayers,
          offloadKqv: onGpu,
        },
        extra: {
          release: lib.release.release,
          source: loc.source,
          npmPackage: loc.npmPackage ?? "",
          npmVersion: loc.npmVersion ?? "",
          llamaBackend: loc.backend,
          cpuVariant: lib.cpuVariant ?? "",
          devices: lib.devices.map((d) => `${d.name}: ${d.description}`).join("; "),
          systemInfo: lib.systemInfo,
        },
      };
    },
    model(): TargetModelInfo {
      return {
        arch: meta("general.architecture"),
        layers: sym.llama_model_n_layer(model),
        vocab,
        weightBytes: Number(sym.llama_model_size(model)),
        dtype: fileType,
        source: options.model,
      };
    },
    // deno-lint-ignore require-await
    prefill: async (seq, tokens) => prefill(seq, tokens),
    // deno-lint-ignore require-await
    async decode(seqs, tokens) {
      const n = seqs.length;
      if (n !== tokens.length) {
        throw new RangeError(`seqs has ${n} entries but tokens has ${tokens.length}`);
      }
      if (n === 0 || n > cap) {
        throw new RangeError(`Cannot decode ${n} sequences: expected 1..${cap}`);
      }
      const seen = new Set<number>();
      for (let i = 0; i < n; i++) {
        const s = seqs[i], t = tokens[i];
        checkSeq(s);
        if (seen.has(s)) throw new RangeError(`Sequence ${s} appears twice in one decode step`);
        seen.add(s);
        if (seqLens[s] + 1 > maxCtx) {
          throw new RangeError(`Cannot decode sequence ${s}: it is full (${maxCtx} tokens)`);
        }
        if (!Number.isInteger(t) || t < 0 || t >= vocab) {
          throw new RangeError(`Token for sequence ${s} is ${t}: expected 0..${vocab - 1}`);
        }
        tokenArr[i] = t;
        posArr[i] = seqLens[s];
        seqArr[i][0] = s;
        outArr[i] = 1;
      }
      const ns = run(n, `decode ${n} sequence(s)`);
      outputRow.fill(-1);
      for (let i = 0; i < n; i++) {
        seqLens[seqs[i]] += 1;
        outputRow[seqs[i]] = i;
      }
      return ns;
    },
    logits: (seq) => logitsView(seq).slice(),
    sample(seq) {
      const t0 = lib.nowNs();
      const l = logitsView(seq);
      let best = 0;
      for (let i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
      return { token: best, ns: lib.nowNs() - t0 };
    },
    async fillKv(seq, pos, seed = 0) {
      checkSeq(seq);
      checkInt("pos", pos, 0, maxCtx);
      target.reset(seq);
      if (pos === 0) return 0;
      // A real prefill of seeded pseudo-random tokens (as llama-bench -d does).
      let x = (seed >>> 0) || 1;
      const toks = new Int32Array(pos);
      for (let i = 0; i < pos; i++) {
        x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
        toks[i] = (x >>> 0) % vocab;
      }
      return await prefill(seq, toks);
    },
    seqLen(seq) {
      checkSeq(seq);
      return seqLens[seq];
    },
    reset(seq) {
      checkSeq(seq);
      sym.llama_memory_seq_rm(mem, seq, -1, -1);
      seqLens[seq] = 0;
      outputRow[seq] = -1;
    },
    truncate(seq, len) {
      checkSeq(seq);
      checkInt("len", len, 0, seqLens[seq]);
      sym.llama_memory_seq_rm(mem, seq, len, -1);
      seqLens[seq] = len;
      outputRow[seq] = -1;
    },
    counters(): TargetCounters {
      if (closed) throw new Error("Cannot use the llama.cpp target: it is closed");
      const p = perf();
      return {
        prefillNs: Math.round(p.t_p_eval_ms * 1e6),
        decodeNs: Math.round(p.t_eval_ms * 1e6),
        // llama_perf_context reports max(1, n): a count with no time behind it is 0.
        prefillTokens: p.t_p_eval_ms === 0 ? 0 : p.n_p_eval,
        decodeTokens: p.t_eval_ms === 0 ? 0 : p.n_eval,
        peakBytes: null,
      };
    },
    warnings: () => lib.log.slice(logStart).filter((e) => e.level >= 3).map((e) => e.text.trim()),
    close() {
      if (closed) return;
      closed = true;
      nb.free();
      sym.llama_free(ctx);
      sym.llama_model_free(model);
    },
    [Symbol.dispose]() {
      target.close();
    },
  };
  return target;
}
