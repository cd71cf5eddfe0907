/* backend.h: the interface every backend (cpu, cuda, metal) fills in. Calls are coarse so a GPU
 * backend runs whole passes with its own kernels. api.c checks every argument and owns all state
 * transitions (sequence lengths, block tables, counters of calls); a backend only computes.
 *
 * Common rules for every function below:
 * - Return LMR_OK or an LMR_ERR_* status; on failure write the message with
 *   lmr_fail(e, status, "...") (what failed, then why, e.g. the CUDA error string) and leave no
 *   partial allocation behind. Never print, exit or abort.
 * - Memory the backend allocates on behalf of an object is reported with lmr_mem_add(e, +bytes)
 *   and given back with lmr_mem_add(e, -bytes) (device bytes on GPUs, host bytes on the CPU), and
 *   added to the object's tracked_bytes field.
 * - Timing is done by api.c around these calls; a GPU backend must synchronize its stream before
 *   returning from forward/fill_kv/sample so the wall time covers the work.
 * - Counters: forward adds the kernels (CPU: ops) it launched to e->counters.kernels, and in
 *   profile mode (e->params.profile) the summed kernel time to e->counters.kernel_ns. */
#ifndef LMR_BACKEND_H
#define LMR_BACKEND_H

#include "internal.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lmr_backend_ops {
    const char *name;             /* "cpu", "cuda", "metal" */
    int32_t default_kv_dtype;     /* LMR_DTYPE_* used when the session asks for DEFAULT */
    int32_t default_prefill_chunk;/* tokens per prefill chunk when the session asks for 0 */

    /* Create the backend's state on e->params.device and fill e->info completely (backend,
     * executor actually used, device facts, simd, build_flags are prefilled by api.c). e->pool
     * is already created with e->info.n_threads threads. */
    lmr_status (*engine_init)(lmr_engine *e);
    void (*engine_free)(lmr_engine *e);

    /* lmrig.h semantics of lmr_probe_bandwidth / lmr_probe_launch (args already checked). */
    lmr_status (*probe_bandwidth)(lmr_engine *e, uint64_t bytes, int32_t reps, double *samples);
    lmr_status (*probe_launch)(lmr_engine *e, int32_t n, double *eager_ns, double *graph_ns);

    /* m->w holds the weights on the host and m->embed/final_norm/lm_head/layers are bound.
     * CPU: use them in place. GPU: check they fit in free device memory (LMR_ERR_OUT_OF_MEMORY
     * naming bytes needed and free), upload, keep device pointers in m->priv. */
    lmr_status (*model_init)(lmr_model *m);
    void (*model_free)(lmr_model *m);

    /* s->params is resolved (max_seqs, max_ctx, kv_dtype, prefill_chunk, block_tokens), s->kv
     * holds the bookkeeping of s->kv.n_blocks blocks, s->kv_bytes the pool size. Check the pool
     * plus scratch fit in free memory BEFORE allocating (LMR_ERR_OUT_OF_MEMORY naming bytes
     * needed and available), then allocate the KV pool (per layer K and V, each
     * [n_blocks, block_tokens, n_kv_heads, head_dim] of kv_dtype) and activation scratch for
     * max(prefill_chunk, max_seqs) tokens, into s->priv. kv_dtype not supported ->
     * LMR_ERR_UNSUPPORTED. */
    lmr_status (*session_init)(lmr_session *s);
    void (*session_free)(lmr_session *s);

    /* Run the model on a batch: either one entry with n >= 1 tokens (a prefill chunk of at most
     * prefill_chunk tokens) or up to max_seqs entries of one token each on distinct sequences (a
     * decode step; weights must be read once for the whole batch). Token ids are in range,
     * positions pos0..pos0+n-1 < max_ctx, and the block tables already cover pos0+n positions
     * (lmr_kv_table(&s->kv, seq)). For every layer write K and V of each token at its position
     * in the paged cache, attend causally over positions 0..pos (the cache before pos0 was
     * written by earlier calls or fill_kv), and for each entry with want_logits write the
     * logits of its last token to s->logits + seq * vocab (host FP32), or, when
     * logits_on_device is set, keep them in the backend's own row for seq (read back later
     * through fetch_logits). Must not change any other session state. */
    lmr_status (*forward)(lmr_session *s, const lmr_batch_entry *entries, int32_t n_entries);

    /* Fill positions [0, pos) of seq's K and V cache, every layer, with seeded random values of
     * realistic scale (see cpu/backend_cpu.c for the distribution); the block table already
     * covers pos positions. Same seed -> same values on every backend is not required. */
    lmr_status (*fill_kv)(lmr_session *s, int32_t seq, int32_t pos, uint64_t seed);

    /* Optional (NULL: api.c samples on the host from s->logits). On-device sampling of seq's
     * next token with p (already checked) and the sequence's generator state s->rng[seq]. */
    lmr_status (*sample)(lmr_session *s, int32_t seq, const lmr_sampler_params *p,
                         int32_t *out_token);

    /* 1: forward leaves the logits on the device and api.c copies a row to the host only when
     * the host needs it (lmr_session_logits, host sampling: lmr_logits_host), so a decode step
     * with on-device sampling moves one token id back. 0 (CPU): forward writes s->logits. */
    int32_t logits_on_device;
    /* Required with logits_on_device: copy seq's logits of the last forward to out[vocab] (host
     * FP32), synchronized. Must not change session state. */
    lmr_status (*fetch_logits)(lmr_session *s, int32_t seq, float *out);

    /* Optional (NULL: no energy figure). reset 1: start a new energy window now (counters
     * reset); 0: set e->counters.energy_mj / energy_ns to the window so far (counters read).
     * Leaves both 0 when the device has no energy reading; never fails. */
    void (*energy)(lmr_engine *e, int reset);
};

extern const lmr_backend_ops lmr_cpu_backend;

#ifdef LMR_HAVE_CUDA
extern const lmr_backend_ops lmr_cuda_backend;
/* Devices usable now; 0 (never an error) without a driver or device. */
int lmr_cuda_device_count(void);
#endif
#ifdef LMR_HAVE_METAL
extern const lmr_backend_ops lmr_metal_backend;
int lmr_metal_device_count(void);
#endif

#ifdef __cplusplus
}
#endif
#endif /* LMR_BACKEND_H */
