/* kv_test.c: the paged KV block allocator: all-or-nothing reserve, truncate, and a random stress
 * over many sequences checking no block is ever leaked or owned twice. */
#include <stdlib.h>

#include "check.h"
#include "kv.h"

/* Every block is on the free stack or in exactly one table, once. */
static int consistent(const lmr_kv *kv, int32_t *owner) {
    for (int32_t b = 0; b < kv->n_blocks; b++) owner[b] = -2;
    for (int32_t i = 0; i < kv->n_free; i++) {
        int32_t b = kv->free_list[i];
        if (b < 0 || b >= kv->n_blocks || owner[b] != -2) return 0;
        owner[b] = -1;
    }
    int32_t held = 0;
    for (int32_t s = 0; s < kv->max_seqs; s++) {
        const int32_t *t = lmr_kv_table(kv, s);
        for (int32_t j = 0; j < kv->max_blocks_seq; j++) {
            if (j >= kv->n_held[s]) {
                if (t[j] != -1) return 0;
                continue;
            }
            if (t[j] < 0 || t[j] >= kv->n_blocks || owner[t[j]] != -2) return 0;
            owner[t[j]] = s;
            held++;
        }
    }
    return held + kv->n_free == kv->n_blocks;
}

int main(void) {
    lmr_kv kv = {0};
    CHECK(lmr_kv_init(&kv, 10, 16, 3, 100) == 0, "init 10 blocks of 16, 3 seqs, ctx 100");
    CHECK(kv.max_blocks_seq == 7, "ceil(100/16) = 7 blocks per table (got %d)", kv.max_blocks_seq);
    CHECK(lmr_kv_reserve(&kv, 0, 1) == 0 && kv.n_held[0] == 1, "1 token takes 1 block");
    CHECK(lmr_kv_reserve(&kv, 0, 16) == 0 && kv.n_held[0] == 1, "16 tokens still 1 block");
    CHECK(lmr_kv_reserve(&kv, 0, 17) == 0 && kv.n_held[0] == 2, "17 tokens take 2 blocks");
    CHECK(lmr_kv_blocks_needed(&kv, 0, 100) == 5, "100 tokens need 5 more");
    CHECK(lmr_kv_reserve(&kv, 0, 113) != 0 && kv.n_held[0] == 2, "beyond table capacity refused");
    CHECK(lmr_kv_reserve(&kv, 1, 112) == 0 && kv.n_free == 1, "seq 1 takes 7, 1 left");
    CHECK(lmr_kv_reserve(&kv, 2, 33) != 0 && kv.n_held[2] == 0 && kv.n_free == 1,
          "reserve of 3 blocks with 1 free refused, nothing taken");
    lmr_kv_truncate(&kv, 1, 20);
    CHECK(kv.n_held[1] == 2 && kv.n_free == 6, "truncate to 20 tokens keeps 2 blocks");
    lmr_kv_truncate(&kv, 0, 0);
    lmr_kv_truncate(&kv, 1, 0);
    CHECK(kv.n_free == 10, "all blocks back after truncating to 0");
    int32_t *owner = malloc(sizeof(int32_t) * 10);
    CHECK(consistent(&kv, owner), "bookkeeping consistent");
    free(owner);
    lmr_kv_free(&kv);

    /* Stress: 37 sequences, 200 blocks of 8, random grow / shrink / reset. */
    CHECK(lmr_kv_init(&kv, 200, 8, 37, 300) == 0, "init stress pool");
    owner = malloc(sizeof(int32_t) * 200);
    int32_t len[37] = {0};
    srand(12345);
    int ok = 1, refused = 0, granted = 0;
    for (int it = 0; it < 20000 && ok; it++) {
        int s = rand() % 37, op = rand() % 10;
        if (op < 6) {
            int32_t want = len[s] + 1 + rand() % 40;
            int32_t before_free = kv.n_free, before_held = kv.n_held[s];
            if (lmr_kv_reserve(&kv, s, want) == 0) {
                len[s] = want > len[s] ? want : len[s];
                granted++;
            } else {
                refused++;
                ok &= kv.n_free == before_free && kv.n_held[s] == before_held;
            }
        } else if (op < 9) {
            len[s] = len[s] ? rand() % len[s] : 0;
            lmr_kv_truncate(&kv, s, len[s]);
        } else {
            len[s] = 0;
            lmr_kv_truncate(&kv, s, 0);
        }
        ok &= consistent(&kv, owner);
        for (int q = 0; q < 37 && ok; q++) ok &= kv.n_held[q] >= (len[q] + 7) / 8;
    }
    CHECK(ok, "20000 random ops: no block leaked or shared, tables cover lengths");
    CHECK(granted > 1000 && refused > 100, "stress hit both grants (%d) and refusals (%d)",
          granted, refused);
    for (int s = 0; s < 37; s++) lmr_kv_truncate(&kv, s, 0);
    CHECK(kv.n_free == 200 && consistent(&kv, owner), "free count returns to the total");
    free(owner);
    lmr_kv_free(&kv);
    return check_summary();
}
