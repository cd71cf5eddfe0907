/* kv.h: the paged KV cache's bookkeeping (backend independent). A session's pool holds n_blocks
 * blocks of block_tokens positions; each sequence owns a block table (pool block per
 * block_tokens positions), grown on demand and returned to the free list on reset. The storage
 * itself ([n_layers][K|V][n_blocks, block_tokens, n_kv_heads, head_dim]) belongs to the backend. */
#ifndef LMR_KV_H
#define LMR_KV_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t n_blocks;       /* blocks in the pool */
    int32_t block_tokens;   /* positions per block */
    int32_t max_seqs;
    int32_t max_blocks_seq; /* ceil(max_ctx / block_tokens): capacity of one block table */
    int32_t n_free;
    int32_t *free_list;     /* [n_blocks] stack of free block ids; top is free_list[n_free-1] */
    int32_t *tables;        /* [max_seqs, max_blocks_seq] pool block ids (-1 = none) */
    int32_t *n_held;        /* [max_seqs] blocks held by each sequence */
} lmr_kv;

/* Allocates the bookkeeping only; 0 on success, -1 when out of host memory. */
int lmr_kv_init(lmr_kv *kv, int32_t n_blocks, int32_t block_tokens, int32_t max_seqs,
                int32_t max_ctx);
void lmr_kv_free(lmr_kv *kv); /* safe on a zeroed struct */
/* Blocks sequence seq needs beyond those it holds to store n_tokens positions. */
int32_t lmr_kv_blocks_needed(const lmr_kv *kv, int32_t seq, int32_t n_tokens);
/* Grow seq's table to cover n_tokens positions. All or nothing: -1 (nothing taken) when the pool
 * has too few free blocks or n_tokens exceeds the table capacity. */
int lmr_kv_reserve(lmr_kv *kv, int32_t seq, int32_t n_tokens);
/* Shrink seq's table to cover n_tokens positions (0 frees all), returning blocks to the pool. */
void lmr_kv_truncate(lmr_kv *kv, int32_t seq, int32_t n_tokens);
static inline const int32_t *lmr_kv_table(const lmr_kv *kv, int32_t seq) {
    return kv->tables + (int64_t)seq * kv->max_blocks_seq;
}

#ifdef __cplusplus
}
#endif
#endif /* LMR_KV_H */
