/* api.c: the public C ABI for the library, engines, counters and probes: argument checks, status
 * codes, the last-error buffers and memory accounting. Models are in api_model.c, sessions in
 * api_session.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "cpu/kernels.h"
#include "lmr_build_info.h"
#include "lmr_git_info.h"

static _Thread_local char tls_err[LMR_ERR_CAP];

char *lmr_tls_error(void) { return tls_err; }

lmr_status lmr_fail(lmr_engine *e, lmr_status st, const char *fmt, ...) {
    char *buf = e ? e->err : tls_err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, LMR_ERR_CAP, fmt, ap);
    va_end(ap);
    return st;
}

void lmr_mem_add(lmr_engine *e, int64_t delta) {
    e->counters.current_bytes += (uint64_t)delta;
    if (e->counters.current_bytes > e->counters.peak_bytes)
        e->counters.peak_bytes = e->counters.current_bytes;
}

int32_t lmr_dtype_bytes(int32_t dtype) {
    switch (dtype) {
    case LMR_DTYPE_F32: return 4;
    case LMR_DTYPE_F16:
    case LMR_DTYPE_BF16: return 2;
    default: return 0;
    }
}

const char *lmr_dtype_name(int32_t dtype) {
    switch (dtype) {
    case LMR_DTYPE_F32: return "F32";
    case LMR_DTYPE_F16: return "F16";
    case LMR_DTYPE_BF16: return "BF16";
    case LMR_DTYPE_Q8_0: return "Q8_0";
    case LMR_DTYPE_Q4_K: return "Q4_K";
    case LMR_DTYPE_Q6_K: return "Q6_K";
    case LMR_DTYPE_DEFAULT: return "DEFAULT";
    default: return "unknown";
    }
}

static const char *backend_name(int32_t b) {
    switch (b) {
    case LMR_BACKEND_AUTO: return "auto";
    case LMR_BACKEND_CPU: return "cpu";
    case LMR_BACKEND_CUDA: return "cuda";
    case LMR_BACKEND_METAL: return "metal";
    default: return "unknown";
    }
}

/* ---- library ---- */

LMR_API uint32_t lmr_abi_version(void) { return LMR_ABI_VERSION; }
LMR_API const char *lmr_version_string(void) { return "0.1.0"; }

/* Why backend b can't be used now (NULL when it can). */
static const char *backend_missing(int32_t b) {
    switch (b) {
    case LMR_BACKEND_CPU: return NULL;
    case LMR_BACKEND_CUDA:
#ifdef LMR_HAVE_CUDA
        return lmr_cuda_device_count() > 0 ? NULL : "no CUDA device or driver found";
#else
        return "the CUDA backend is not compiled into this build (backends: " LMR_BACKENDS ")";
#endif
    case LMR_BACKEND_METAL:
#ifdef LMR_HAVE_METAL
        return lmr_metal_device_count() > 0 ? NULL : "no Metal device found";
#else
        return "the Metal backend is not compiled into this build (backends: " LMR_BACKENDS ")";
#endif
    default: return "unknown backend id";
    }
}

LMR_API int32_t lmr_backend_available(int32_t backend) {
    return backend >= LMR_BACKEND_CPU && backend <= LMR_BACKEND_METAL &&
           backend_missing(backend) == NULL;
}

static const lmr_backend_ops *backend_ops(int32_t b) {
#ifdef LMR_HAVE_CUDA
    if (b == LMR_BACKEND_CUDA) return &lmr_cuda_backend;
#endif
#ifdef LMR_HAVE_METAL
    if (b == LMR_BACKEND_METAL) return &lmr_metal_backend;
#endif
    return b == LMR_BACKEND_CPU ? &lmr_cpu_backend : NULL;
}

/* ---- engine ---- */

LMR_API lmr_engine_params lmr_engine_params_default(void) {
    lmr_engine_params p;
    memset(&p, 0, sizeof p);
    p.size = sizeof p;
    p.backend = LMR_BACKEND_AUTO;
    p.executor = LMR_EXECUTOR_EAGER;
    return p;
}

LMR_API lmr_status lmr_engine_create(const lmr_engine_params *p, lmr_engine **out) {
    const char *fn = "lmr_engine_create";
    if (!out) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: out is NULL", fn);
    *out = NULL;
    if (!p) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: params are NULL", fn);
    LMR_CHECK_SIZE(NULL, fn, "params", p, lmr_engine_params);
    if (p->backend < LMR_BACKEND_AUTO || p->backend > LMR_BACKEND_METAL)
        return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: backend %d is not a LMR_BACKEND_* value",
                        fn, p->backend);
    if (p->n_threads < 0 || p->n_threads > 1024)
        return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: n_threads %d must be in [0, 1024]", fn,
                        p->n_threads);
    if (p->executor != LMR_EXECUTOR_EAGER && p->executor != LMR_EXECUTOR_GRAPH)
        return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: executor %d is not a LMR_EXECUTOR_* value",
                        fn, p->executor);
    if (p->profile != 0 && p->profile != 1)
        return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: profile %d must be 0 or 1", fn, p->profile);
    if (p->device < 0)
        return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: device %d must be >= 0", fn, p->device);

    int32_t backend = p->backend;
    if (backend == LMR_BACKEND_AUTO) {
        backend = lmr_backend_available(LMR_BACKEND_CUDA)    ? LMR_BACKEND_CUDA
                  : lmr_backend_available(LMR_BACKEND_METAL) ? LMR_BACKEND_METAL
                                                             : LMR_BACKEND_CPU;
    }
    const char *why = backend_missing(backend);
    if (why)
        return lmr_fail(NULL, LMR_ERR_UNSUPPORTED, "%s: backend %s unavailable: %s", fn,
                        backend_name(backend), why);

    lmr_engine *e = calloc(1, sizeof *e);
    if (!e) return lmr_fail(NULL, LMR_ERR_OUT_OF_MEMORY, "%s: no host memory for the engine", fn);
    e->params = *p;
    e->params.backend = backend;
    e->ops = backend_ops(backend);
    e->counters = lmr_counters_default();

    lmr_engine_info *in = &e->info;
    *in = lmr_engine_info_default();
    in->backend = backend;
    in->executor = p->executor;
    in->n_cores = lmr_cpu_online_cores();
    in->n_threads = p->n_threads > 0 ? p->n_threads : (in->n_cores > 0 ? in->n_cores : 1);
    in->simd_flags = lmr_cpu_simd_flags();
    in->simd_used = lmr_cpu_simd_used();
    in->host_memory_bytes = lmr_cpu_physical_memory();
    lmr_cpu_name(in->cpu_name, sizeof in->cpu_name);
    snprintf(in->simd_name, sizeof in->simd_name, "%s", lmr_cpu_simd_name());
    snprintf(in->build_flags, sizeof in->build_flags, "%s; commit %s%s", LMR_BUILD_FLAGS,
             LMR_GIT_COMMIT, LMR_GIT_DIRTY ? "-dirty" : "");

    e->pool = lmr_pool_create(in->n_threads);
    if (!e->pool) {
        int32_t n = in->n_threads;
        free(e);
        return lmr_fail(NULL, LMR_ERR_OUT_OF_MEMORY, "%s: could not start %d worker threads", fn,
                        n);
    }
    lmr_status st = e->ops->engine_init(e);
    if (st != LMR_OK) {
        snprintf(tls_err, sizeof tls_err, "%s: %.990s", fn, e->err);
        lmr_pool_destroy(e->pool);
        free(e);
        return st;
    }
    *out = e;
    return LMR_OK;
}

/* Refuses (and leaves a message on e) while models are open: freeing them under the caller
 * would leave dangling handles. */
LMR_API void lmr_engine_destroy(lmr_engine *e) {
    if (!e) return;
    if (e->n_models > 0) {
        lmr_fail(e, LMR_ERR_STATE, "lmr_engine_destroy: %d models still open; destroy them first",
                 e->n_models);
        return;
    }
    e->ops->engine_free(e);
    lmr_pool_destroy(e->pool);
    free(e);
}

LMR_API const char *lmr_last_error(const lmr_engine *e) { return e ? e->err : tls_err; }

LMR_API lmr_engine_info lmr_engine_info_default(void) {
    lmr_engine_info i;
    memset(&i, 0, sizeof i);
    i.size = sizeof i;
    return i;
}

LMR_API lmr_status lmr_engine_info_get(lmr_engine *e, lmr_engine_info *out) {
    if (!e) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "lmr_engine_info_get: engine is NULL");
    if (!out) return lmr_fail(e, LMR_ERR_INVALID_ARG, "lmr_engine_info_get: out is NULL");
    LMR_CHECK_SIZE(e, "lmr_engine_info_get", "out", out, lmr_engine_info);
    *out = e->info;
    return LMR_OK;
}

LMR_API lmr_status lmr_probe_bandwidth(lmr_engine *e, uint64_t bytes, int32_t reps,
                                       double *samples_bps) {
    const char *fn = "lmr_probe_bandwidth";
    if (!e) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: engine is NULL", fn);
    if (!samples_bps) return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: samples_bps is NULL", fn);
    if (reps < 1 || reps > 100000)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: reps %d must be in [1, 100000]", fn, reps);
    if (bytes < (1u << 20))
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: bytes %llu must be at least 1 MiB", fn,
                        (unsigned long long)bytes);
    return e->ops->probe_bandwidth(e, bytes, reps, samples_bps);
}

LMR_API lmr_status lmr_probe_launch(lmr_engine *e, int32_t n, double *eager_ns, double *graph_ns) {
    const char *fn = "lmr_probe_launch";
    if (!e) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "%s: engine is NULL", fn);
    if (!eager_ns || !graph_ns)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                        !eager_ns ? "eager_ns" : "graph_ns");
    if (n < 1 || n > 10000000)
        return lmr_fail(e, LMR_ERR_INVALID_ARG, "%s: n %d must be in [1, 10000000]", fn, n);
    return e->ops->probe_launch(e, n, eager_ns, graph_ns);
}

/* ---- counters ---- */

LMR_API lmr_counters lmr_counters_default(void) {
    lmr_counters c;
    memset(&c, 0, sizeof c);
    c.size = sizeof c;
    return c;
}

LMR_API lmr_status lmr_counters_get(lmr_engine *e, lmr_counters *out) {
    if (!e) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "lmr_counters_get: engine is NULL");
    if (!out) return lmr_fail(e, LMR_ERR_INVALID_ARG, "lmr_counters_get: out is NULL");
    LMR_CHECK_SIZE(e, "lmr_counters_get", "out", out, lmr_counters);
    if (e->ops->energy) e->ops->energy(e, 0);
    *out = e->counters;
    return LMR_OK;
}

LMR_API lmr_status lmr_counters_reset(lmr_engine *e) {
    if (!e) return lmr_fail(NULL, LMR_ERR_INVALID_ARG, "lmr_counters_reset: engine is NULL");
    uint64_t cur = e->counters.current_bytes;
    e->counters = lmr_counters_default();
    e->counters.current_bytes = cur;
    e->counters.peak_bytes = cur;
    if (e->ops->energy) e->ops->energy(e, 1);
    return LMR_OK;
}
