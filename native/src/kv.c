/* kv.c: paged KV block allocator: a free stack of pool blocks and one block table per sequence.
 * Every block is either on the free stack or in exactly one table. */
#include "kv.h"

#include <stdlib.h>

int lmr_kv_init(lmr_kv *kv, int32_t n_blocks, int32_t block_tokens, int32_t max_seqs,
                int32_t max_ctx) {
    kv->n_blocks = n_blocks;
    kv->block_tokens = block_tokens;
    kv->max_seqs = max_seqs;
    kv->max_blocks_seq = (max_ctx + block_tokens - 1) / block_tokens;
    kv->free_list = malloc(sizeof(int32_t) * (size_t)(n_blocks > 0 ? n_blocks : 1));
    kv->tables = malloc(sizeof(int32_t) * (size_t)max_seqs * (size_t)kv->max_blocks_seq);
    kv->n_held = calloc((size_t)max_seqs, sizeof(int32_t));
    if (!kv->free_list || !kv->tables || !kv->n_held) {
        lmr_kv_free(kv);
        return -1;
    }
    /* Stack order hands out low block ids first. */
    for (int32_t i = 0; i < n_blocks; i++) kv->free_list[i] = n_blocks - 1 - i;
    kv->n_free = n_blocks;
    for (int64_t i = 0; i < (int64_t)max_seqs * kv->max_blocks_seq; i++) kv->tables[i] = -1;
    return 0;
}

void lmr_kv_free(lmr_kv *kv) {
    free(kv->free_list);
    free(kv->tables);
    free(kv->n_held);
    kv->free_list = kv->tables = kv->n_held = NULL;
    kv->n_free = kv->n_blocks = 0;
}

int32_t lmr_kv_blocks_needed(const lmr_kv *kv, int32_t seq, int32_t n_tokens) {
    int32_t want = (n_tokens + kv->block_tokens - 1) / kv->block_tokens;
    return want > kv->n_held[seq] ? want - kv->n_held[seq] : 0;
}

int lmr_kv_reserve(lmr_kv *kv, int32_t seq, int32_t n_tokens) {
    int32_t want = (n_tokens + kv->block_tokens - 1) / kv->block_tokens;
    if (want > kv->max_blocks_seq) return -1;
    int32_t need = want - kv->n_held[seq];
    if (need <= 0) return 0;
    if (need > kv->n_free) return -1;
    int32_t *table = kv->tables + (int64_t)seq * kv->max_blocks_seq;
    for (int32_t j = kv->n_held[seq]; j < want; j++) table[j] = kv->free_list[--kv->n_free];
    kv->n_held[seq] = want;
    return 0;
}

void lmr_kv_truncate(lmr_kv *kv, int32_t seq, int32_t n_tokens) {
    int32_t keep = (n_tokens + kv->block_tokens - 1) / kv->block_tokens;
    int32_t *table = kv->tables + (int64_t)seq * kv->max_blocks_seq;
    while (kv->n_held[seq] > keep) {
        int32_t j = --kv->n_held[seq];
        kv->free_list[kv->n_free++] = table[j];
        table[j] = -1;
    }
}
