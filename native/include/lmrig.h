/* lmrig.h: the only public header of the lmrig inference engine.
 *
 * Rules (see docs/engine.md): every fallible call returns lmr_status (0 ok, < 0 error) and leaves a
 * message for lmr_last_error; results go through out-pointers; the caller allocates every buffer
 * it reads; the library never prints, exits or aborts. One exception it cannot prevent: loaded
 * weights are mmap'd in place, so a weights file truncated by another process while a call reads
 * it raises SIGBUS. Prefill, decode and generate check each file's size and mtime on entry and
 * return LMR_ERR_IO when it changed since the load; a change during a call is not caught.
 * Structs carry a `size` field set by their *_default() function and hold fixed-width fields
 * only; new fields go at the end. Any change that breaks callers bumps LMR_ABI_VERSION
 * (2: lmr_counters grew energy_mj and energy_ns, so a caller built for 1 is refused by size;
 * 3: lmr_model_info grew weight_types).
 *
 * Threading: one engine and everything under it is used by one thread at a time.
 * Timing: every duration is in nanoseconds from a monotonic clock, read after the device has
 * synchronised, so figures never include FFI or caller overhead. */
#ifndef LMRIG_H
#define LMRIG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define LMR_API __declspec(dllexport)
#else
#define LMR_API __attribute__((visibility("default")))
#endif

#define LMR_ABI_VERSION 3u

typedef int32_t lmr_status;

/* Status codes. */
#define LMR_OK 0
#define LMR_ERR_INVALID_ARG -1    /* a NULL pointer, a bad size field, a value out of its domain */
#define LMR_ERR_IO -2             /* file missing, unreadable, mmap failed */
#define LMR_ERR_FORMAT -3         /* malformed config.json or safetensors (bad header, shapes...) */
#define LMR_ERR_UNSUPPORTED -4    /* unknown architecture, dtype, backend or head dim */
#define LMR_ERR_OUT_OF_MEMORY -5  /* refused before allocating: the message names the sizes */
#define LMR_ERR_OUT_OF_RANGE -6   /* token id >= vocab, position >= max_ctx, seq >= max_seqs */
#define LMR_ERR_BACKEND -7        /* the device failed (CUDA error text in the message) */
#define LMR_ERR_STATE -8          /* call not valid now (e.g. logits of an empty sequence) */
#define LMR_ERR_BUFFER_TOO_SMALL -9 /* caller's capacity too small; the call reports the need */
#define LMR_ERR_NONFINITE -10     /* logits to sample hold NaN or infinity (sequence, position named) */

/* Backends (engine params). AUTO picks CUDA, then Metal, then CPU. */
#define LMR_BACKEND_AUTO 0
#define LMR_BACKEND_CPU 1
#define LMR_BACKEND_CUDA 2
#define LMR_BACKEND_METAL 3

/* Executors: EAGER launches each kernel as it comes; GRAPH records the decode step once (CUDA
 * Graphs) and replays it. The CPU backend runs GRAPH as EAGER and says so in lmr_engine_info. */
#define LMR_EXECUTOR_EAGER 0
#define LMR_EXECUTOR_GRAPH 1

/* Element types of weights and KV cache. */
#define LMR_DTYPE_DEFAULT -1 /* weights: as stored; KV: the backend's default (CPU F32, GPU BF16) */
#define LMR_DTYPE_F32 0
#define LMR_DTYPE_F16 1
#define LMR_DTYPE_BF16 2
/* Quantised weight types, ggml's type ids and block layouts bit for bit (weights only, read from
 * GGUF files; never a KV or activation dtype). A row of `in` weights is in / 32 (Q8_0) or
 * in / 256 (Q4_K, Q6_K) consecutive blocks, so `in` must be a multiple of the block size.
 *   Q8_0: 34 bytes per 32 weights: F16 scale d, 32 int8 q; w = d * q.
 *   Q4_K: 144 bytes per 256 weights: F16 d, F16 dmin, 12 bytes of 6-bit sub-block scales and
 *         mins (8 sub-blocks of 32), 128 bytes of 4-bit q; w = d * sc * q - dmin * m.
 *   Q6_K: 210 bytes per 256 weights: 128 bytes low 4 bits, 64 bytes high 2 bits, 16 int8
 *         sub-block scales (16 sub-blocks of 16), F16 d; w = d * sc * (q - 32). */
#define LMR_DTYPE_Q8_0 8
#define LMR_DTYPE_Q4_K 12
#define LMR_DTYPE_Q6_K 14

/* SIMD capability bits (lmr_engine_info.simd_flags). */
#define LMR_SIMD_AVX2 1
#define LMR_SIMD_FMA 2
#define LMR_SIMD_F16C 4
#define LMR_SIMD_AVX512F 8
#define LMR_SIMD_AVX512BF16 16
#define LMR_SIMD_NEON 32
#define LMR_SIMD_NEON_BF16 64

typedef struct lmr_engine lmr_engine;   /* a backend on one device */
typedef struct lmr_model lmr_model;     /* weights, owned by an engine */
typedef struct lmr_session lmr_session; /* KV cache + state for up to max_seqs sequences */

/* ---- library ---- */

LMR_API uint32_t lmr_abi_version(void);
LMR_API const char *lmr_version_string(void); /* static string, e.g. "0.1.0" */
/* 1 if this build contains the backend and (for GPUs) a device is present, else 0. */
LMR_API int32_t lmr_backend_available(int32_t backend);

/* ---- engine ---- */

typedef struct {
    uint32_t size;     /* sizeof(lmr_engine_params), set by the default function */
    int32_t backend;   /* LMR_BACKEND_* */
    int32_t n_threads; /* CPU worker threads; 0 = all online cores */
    int32_t device;    /* GPU ordinal */
    int32_t executor;  /* LMR_EXECUTOR_* */
    int32_t profile;   /* 1: time every kernel/op (device events on GPUs) for the counters */
} lmr_engine_params;

LMR_API lmr_engine_params lmr_engine_params_default(void);
LMR_API lmr_status lmr_engine_create(const lmr_engine_params *p, lmr_engine **out);
LMR_API void lmr_engine_destroy(lmr_engine *e); /* NULL is fine; models/sessions must go first */
/* The message of the last failed call on e (or anything under e); owned by e until its next call.
 * With e == NULL: this thread's last failure of a call that had no engine (lmr_engine_create). */
LMR_API const char *lmr_last_error(const lmr_engine *e);

typedef struct {
    uint32_t size;
    int32_t backend;            /* the backend actually used (never AUTO) */
    int32_t executor;           /* the executor actually used */
    int32_t n_threads;          /* CPU threads in use */
    int32_t n_cores;            /* online CPU cores */
    int32_t simd_flags;         /* LMR_SIMD_* the CPU has */
    int32_t simd_used;          /* LMR_SIMD_* the dispatched kernels use */
    int32_t sm_count;           /* GPU multiprocessors (0 on CPU) */
    int32_t compute_capability; /* major*10+minor (0 on CPU) */
    int32_t clock_khz;          /* GPU SM clock (0 on CPU) */
    int32_t mem_clock_khz;      /* GPU memory clock (0 on CPU) */
    int32_t mem_bus_bits;       /* GPU memory bus width (0 on CPU) */
    int32_t driver_version;     /* CUDA driver version (0 on CPU) */
    int32_t runtime_version;    /* CUDA runtime version (0 on CPU) */
    uint64_t host_memory_bytes;   /* physical RAM */
    uint64_t device_memory_bytes; /* GPU memory (0 on CPU) */
    char cpu_name[128];
    char device_name[128];  /* GPU name, or the CPU name on the CPU backend */
    char simd_name[32];     /* the dispatched kernel set, e.g. "avx2+fma+f16c" */
    char build_flags[256];  /* compiler, flags, build type, backends compiled in */
} lmr_engine_info;

LMR_API lmr_engine_info lmr_engine_info_default(void);
LMR_API lmr_status lmr_engine_info_get(lmr_engine *e, lmr_engine_info *out);

/* Read bandwidth: streams a buffer of `bytes` `reps` times (after one untimed pass) and writes one
 * sample per rep, in bytes per second, to samples_bps[reps]. */
LMR_API lmr_status lmr_probe_bandwidth(lmr_engine *e, uint64_t bytes, int32_t reps,
                                       double *samples_bps);
/* Dispatch overhead: n empty kernels (GPU: on a stream, then in a graph; CPU: n empty thread-pool
 * dispatches, graph = same) and the mean cost of one, in ns. */
LMR_API lmr_status lmr_probe_launch(lmr_engine *e, int32_t n, double *eager_ns, double *graph_ns);

/* ---- counters (per engine, since create or the last reset) ---- */

typedef struct {
    uint32_t size;
    uint32_t reserved;
    uint64_t prefill_ns;      /* total time inside prefill calls */
    uint64_t decode_ns;       /* total time inside decode forward passes */
    uint64_t sample_ns;       /* total time inside sampling */
    uint64_t prefill_tokens;
    uint64_t decode_steps;    /* decode forward calls (one per batch step) */
    uint64_t decode_tokens;   /* sequences x steps */
    uint64_t kernels;         /* kernels (GPU) or ops (CPU) launched */
    uint64_t kernels_last_step; /* in the last decode step */
    uint64_t kernel_ns;       /* sum of timed kernels (profile mode only, else 0) */
    uint64_t last_call_ns;    /* wall time of the last prefill/decode/sample/generate call */
    uint64_t graph_capture_ns;/* total time spent capturing/instantiating graphs */
    uint64_t peak_bytes;      /* peak bytes allocated by the engine (device on GPUs) */
    uint64_t current_bytes;   /* bytes allocated now */
    /* Device energy (GPU backends with NVML, read through dlopen of the driver's library):
     * millijoules the device consumed over energy_ns of wall time, since create or the last
     * reset, up to the last lmr_counters_get. energy_ns 0: no figure (no NVML, no energy
     * counter, CPU backend); never an error. Joules per token = energy_mj / 1000 / tokens of
     * the window; average watts = energy_mj * 1e6 / energy_ns. */
    uint64_t energy_mj;
    uint64_t energy_ns;
} lmr_counters;

LMR_API lmr_counters lmr_counters_default(void);
LMR_API lmr_status lmr_counters_get(lmr_engine *e, lmr_counters *out);
LMR_API lmr_status lmr_counters_reset(lmr_engine *e); /* keeps peak_bytes = current_bytes */

/* ---- models ---- */

typedef struct {
    uint32_t size;
    int32_t dtype;      /* synthesize: weight dtype (DEFAULT = BF16); load: must be DEFAULT */
    uint64_t seed;      /* synthesize only */
    int32_t n_layers;   /* synthesize only: override the layer count; 0 = as configured */
    int32_t reserved;
} lmr_model_params;

LMR_API lmr_model_params lmr_model_params_default(void);
/* Load a model from `dir`, which is one of:
 * - a Hugging Face folder: config.json and model.safetensors (or the shards named by
 *   model.safetensors.index.json), tensors in BF16, F16 or F32;
 * - a GGUF file (versions 2 and 3, as llama.cpp writes them) of architecture qwen2 or llama,
 *   hyper-parameters from its metadata, tensors in F32, F16, BF16, Q8_0, Q4_K or Q6_K, each its
 *   own type (a Q4_K_M file mixes Q4_K and Q6_K; norms are F32); any other type is
 *   LMR_ERR_UNSUPPORTED naming the tensor and type. The CPU backend runs every mix; the CUDA
 *   backend needs every weight matrix in one of F32, F16, BF16 and refuses the rest at load;
 * - a folder without config.json that holds exactly one .gguf file (several: an error).
 * Tensors are mmap'd and used in place where the backend can (a llama GGUF's q/k weights are
 * copied once, their rows put back from ggml's interleaved RoPE order). */
LMR_API lmr_status lmr_model_load(lmr_engine *e, const char *dir, const lmr_model_params *p,
                                  lmr_model **out);
/* Build a model with seeded random weights of realistic scale. `spec` is a preset name
 * ("qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b", "tinyllama-1.1b", "tiny-qwen2", "tiny-llama")
 * or the path of a config.json. */
LMR_API lmr_status lmr_model_synthesize(lmr_engine *e, const char *spec,
                                        const lmr_model_params *p, lmr_model **out);
/* Write the model as a Hugging Face folder (config.json + model.safetensors). */
LMR_API lmr_status lmr_model_save(lmr_model *m, const char *dir);
LMR_API void lmr_model_destroy(lmr_model *m); /* NULL is fine; its sessions must go first */
/* Names of the presets, separated by '\n', into buf[cap]; *needed gets the size incl. NUL. */
LMR_API lmr_status lmr_model_presets(char *buf, uint64_t cap, uint64_t *needed);

typedef struct {
    uint32_t size;
    int32_t n_layers;
    int32_t hidden;
    int32_t n_heads;
    int32_t n_kv_heads;
    int32_t head_dim;
    int32_t ffn;
    int32_t vocab;
    int32_t max_pos;          /* max_position_embeddings */
    int32_t tie_embeddings;   /* 1 when lm_head is the embedding */
    int32_t dtype;            /* weight dtype (LMR_DTYPE_*) holding the most bytes; a GGUF may
                                 mix several (weight_types lists them) */
    int32_t synthetic;        /* 1 when synthesized */
    double rope_theta;
    double rms_eps;
    uint64_t n_params;        /* parameters (tied embedding counted once) */
    uint64_t weight_bytes;    /* bytes of all weights as stored (quantised: their blocks) */
    uint64_t decode_bytes;    /* weight bytes one decode step reads (embedding row excluded) */
    uint64_t kv_bytes_per_token; /* at this engine's default KV dtype */
    uint64_t seed;            /* synthetic seed, else 0 */
    uint64_t load_ns;         /* load or synthesis time, including upload to the device */
    char arch[32];            /* "qwen2" or "llama" */
    char name[128];           /* preset name, folder base name or GGUF file name */
    /* ABI 3: the weight types and how many tensors each ("q4_K:169,q6_K:29,f32:57"), ggml's
     * names (f32, f16, bf16, q8_0, q4_K, q6_K), largest share of bytes first. */
    char weight_types[64];
} lmr_model_info;

LMR_API lmr_model_info lmr_model_info_default(void);
LMR_API lmr_status lmr_model_info_get(lmr_model *m, lmr_model_info *out);

/* ---- sessions ---- */

typedef struct {
    uint32_t size;
    int32_t max_seqs;      /* sequences that can be live at once (default 1) */
    int32_t max_ctx;       /* tokens per sequence (default min(model max_pos, 4096)) */
    int32_t kv_dtype;      /* LMR_DTYPE_*; DEFAULT = backend default */
    int32_t prefill_chunk; /* tokens per prefill chunk; 0 = backend default */
    int32_t block_tokens;  /* KV block size in tokens; 0 = default (16) */
    uint64_t kv_budget_bytes; /* 0: pool holds max_seqs * max_ctx tokens; else at most this */
} lmr_session_params;

LMR_API lmr_session_params lmr_session_params_default(void);
/* Refuses with LMR_ERR_OUT_OF_MEMORY (naming the sizes) before allocating a KV pool that does not
 * fit in the device's (or host's) free memory. */
LMR_API lmr_status lmr_session_create(lmr_model *m, const lmr_session_params *p,
                                      lmr_session **out);
LMR_API void lmr_session_destroy(lmr_session *s); /* NULL is fine */

typedef struct {
    uint32_t size;
    int32_t max_seqs;
    int32_t max_ctx;
    int32_t kv_dtype;
    int32_t block_tokens;
    int32_t n_blocks;        /* blocks in the KV pool */
    int32_t free_blocks;     /* blocks not held by any sequence */
    int32_t prefill_chunk;
    uint64_t kv_bytes;       /* bytes of the KV pool */
    uint64_t kv_bytes_per_token;
} lmr_session_info;

LMR_API lmr_session_info lmr_session_info_default(void);
LMR_API lmr_status lmr_session_info_get(lmr_session *s, lmr_session_info *out);

/* Append n tokens to sequence seq (chunked) and compute the logits of the last one. */
LMR_API lmr_status lmr_session_prefill(lmr_session *s, int32_t seq, const int32_t *tokens,
                                       int32_t n);
/* One decode step: append tokens[i] to seqs[i] for i < n (distinct live sequences, each at its
 * own position) and compute each one's logits. Weights are read once for the whole batch. */
LMR_API lmr_status lmr_session_decode(lmr_session *s, const int32_t *seqs, const int32_t *tokens,
                                      int32_t n);
/* Logits of the last token of seq into out[cap]; cap must be >= vocab. */
LMR_API lmr_status lmr_session_logits(lmr_session *s, int32_t seq, float *out, int32_t cap);
LMR_API lmr_status lmr_session_seq_len(lmr_session *s, int32_t seq, int32_t *out);
/* Forget seq's tokens and free its KV blocks. */
LMR_API lmr_status lmr_session_reset(lmr_session *s, int32_t seq);
/* Set seq to position pos with its KV cache filled with seeded random data of realistic scale
 * (as if pos tokens had been prefilled) and logits undefined until the next decode. */
LMR_API lmr_status lmr_session_fill_kv(lmr_session *s, int32_t seq, int32_t pos, uint64_t seed);

typedef struct {
    uint32_t size;
    float temperature; /* 0 = greedy (argmax; lowest id on ties) */
    int32_t top_k;     /* 0 = off */
    float top_p;       /* 1 = off */
    uint64_t seed;     /* the sequence's generator is reseeded when this changes or on reset */
} lmr_sampler_params;

LMR_API lmr_sampler_params lmr_sampler_params_default(void);
/* Sample seq's next token from its current logits. LMR_ERR_NONFINITE (no token written) when a
 * logit is NaN or infinite; the message names the sequence, position and layer count. */
LMR_API lmr_status lmr_session_sample(lmr_session *s, int32_t seq, const lmr_sampler_params *p,
                                      int32_t *out_token);

typedef struct {
    uint32_t size;
    uint32_t reserved;
    uint64_t ttft_ns;      /* prefill + first sample: first token ready on the host */
    uint64_t prefill_ns;
    uint64_t decode_ns;    /* all decode forward passes */
    uint64_t sample_ns;    /* all sampling, the first included */
    uint64_t total_ns;
    int32_t n_prompt;
    int32_t n_generated;
} lmr_generate_stats;

LMR_API lmr_generate_stats lmr_generate_stats_default(void);
/* The native generate loop on one sequence: prefill the prompt, sample, then decode and sample
 * until n_gen tokens exist. out_tokens[n_gen] gets the tokens; step_ns[n_gen] (may be NULL) gets
 * step_ns[0] = TTFT and step_ns[i] = time of decode step i (forward + sample) for i >= 1.
 * A failure after the prefill (e.g. LMR_ERR_NONFINITE) returns its status with stats filled for
 * the stats->n_generated tokens written before it. */
LMR_API lmr_status lmr_session_generate(lmr_session *s, int32_t seq, const int32_t *prompt,
                                        int32_t n_prompt, int32_t n_gen,
                                        const lmr_sampler_params *sp, int32_t *out_tokens,
                                        uint64_t *step_ns, lmr_generate_stats *stats);

#ifdef __cplusplus
}
#endif
#endif /* LMRIG_H */
