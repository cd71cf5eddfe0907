/* cuda_plan_test.c: the CUDA backend's host-side plans (src/cuda/plan.h), on any machine:
 * graph buckets (1..64 -> at most 7 captures) and the split-K plan of the batched GEMM (enough
 * blocks, K covered exactly, workspace bound, independent of the batch within 17..64). */
#include "check.h"
#include "cuda/plan.h"

int main(void) {
    int ok = 1, slots[LMR_CUDA_BUCKET_SLOTS] = {0}, used = 0;
    for (int n = 1; n <= 4096; n++) {
        int b = lmr_cuda_bucket(n), s = lmr_cuda_bucket_slot(n);
        ok &= b >= n && b < 2 * n + 1 && (b & (b - 1)) == 0 && (1 << s) == b &&
              s < LMR_CUDA_BUCKET_SLOTS;
        if (n <= 64 && !slots[s]) slots[s] = 1, used++;
    }
    CHECK(ok, "buckets: the smallest power of two >= n, slot = log2, 13 slots reach 4096");
    CHECK(used == 7, "batches 1..64 use %d graph buckets (want 7)", used);

    /* Qwen2.5-1.5B on an H100 (132 SMs): q/k/v, o, gate/up, down, lm_head */
    const int sms = 132;
    const int64_t ws = lmr_cuda_splitk_ws_floats(sms);
    struct { int out, K; } sh[] = {{2048, 1536}, {1536, 1536}, {17920, 1536}, {1536, 8960},
                                   {151936, 1536}, {160, 512}, {96, 256}, {64, 64}, {8, 4096}};
    for (unsigned i = 0; i < sizeof sh / sizeof sh[0]; i++) {
        lmr_cuda_splitk p = lmr_cuda_splitk_plan(40, sh[i].out, sh[i].K, sms, ws);
        int tiles = (sh[i].out + 63) / 64;
        int covered = p.splits * p.kps >= sh[i].K && (p.splits - 1) * p.kps < sh[i].K;
        int fits = p.splits == 1 || (int64_t)p.splits * 64 * sh[i].out <= ws;
        int enough = tiles >= 2 * sms || p.splits * tiles >= sms || p.splits == 16 ||
                     p.splits >= sh[i].K / 32 / 4;
        int same = 1;
        for (int n = 17; n <= 64; n++) {
            lmr_cuda_splitk q = lmr_cuda_splitk_plan(n, sh[i].out, sh[i].K, sms, ws);
            same &= q.splits == p.splits && q.kps == p.kps;
        }
        CHECK(covered && fits && enough && same && p.kps % 32 == 0 && p.splits >= 1 &&
                  p.splits <= 16,
              "split-K out %d K %d: %d tiles x %d splits of %d (K covered, fits, same for 17..64)",
              sh[i].out, sh[i].K, tiles, p.splits, p.kps);
    }
    CHECK(lmr_cuda_splitk_plan(2048, 1536, 1536, sms, ws).splits == 1 &&
              lmr_cuda_splitk_plan(65, 1536, 1536, sms, ws).splits == 1 &&
              lmr_cuda_splitk_plan(40, 151936, 1536, sms, ws).splits == 1,
          "no split past 64 tokens or with enough tiles");
    CHECK(lmr_cuda_splitk_plan(40, 1536, 1536, sms, 0).splits == 1,
          "no split without a workspace");
    lmr_cuda_splitk d = lmr_cuda_splitk_plan(40, 1536, 8960, sms, ws);
    CHECK(d.splits * 24 >= 2 * sms - 24, "down (24 tiles): %d blocks on %d SMs", d.splits * 24,
          sms);
    return check_summary();
}
