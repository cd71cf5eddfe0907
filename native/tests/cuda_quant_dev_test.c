/* cuda_quant_dev_test.c: the CUDA quantised kernels' host-compilable parts on the CPU (no GPU or
 * CUDA build needed): quant_dev.h's per-lane dequantisation, which the GEMV and dequantisation
 * kernels run on the device, equals the CPU dequantisation (src/cpu/quant.c, ggml's semantics)
 * for every lane of random blocks of each type, its byte offsets equal the CPU structs', and the
 * GEMV launch plan covers every row and token and refuses bad shapes. A block with an altered
 * scale must differ (negative control). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cpu/quant.h"
#include "../src/cuda/quant_dev.h"
#include "check.h"

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* n weights of dt as random blocks with finite F16 scales */
static void random_blocks(int dt, uint8_t *p, int n) {
    const int be = lmr_dtype_block_elems(dt), bb = (int)lmr_dtype_block_bytes(dt);
    for (int i = 0; i < n / be * bb; i++) p[i] = (uint8_t)rnd();
    for (int b = 0; b < n / be; b++) {
        uint8_t *blk = p + b * bb;
        uint16_t h1 = lmr_f32_to_f16((float)(rnd() % 1000 + 1) * 1e-5f);
        uint16_t h2 = lmr_f32_to_f16((float)(rnd() % 1000) * 1e-5f);
        if (dt == LMR_DTYPE_Q6_K) memcpy(blk + 208, &h1, 2);
        else memcpy(blk, &h1, 2);
        if (dt == LMR_DTYPE_Q4_K) memcpy(blk + 2, &h2, 2);
    }
}

int main(void) {
    CHECK(LMR_QD_Q8_0_BYTES == sizeof(lmr_block_q8_0) && LMR_QD_Q4_K_BYTES == sizeof(lmr_block_q4_K) &&
              LMR_QD_Q6_K_BYTES == sizeof(lmr_block_q6_K) && offsetof(lmr_block_q4_K, qs) == 16 &&
              offsetof(lmr_block_q6_K, qh) == 128 && offsetof(lmr_block_q6_K, scales) == 192 &&
              offsetof(lmr_block_q6_K, d) == 208,
          "quant_dev.h block sizes and offsets = the CPU structs (ggml's)");
    static const int dts[] = {LMR_DTYPE_Q8_0, LMR_DTYPE_Q4_K, LMR_DTYPE_Q6_K};
    static const char *names[] = {"q8_0", "q4_K", "q6_K"};
    enum { N = 2048 };
    uint8_t *w = malloc(N * 2);
    float *ref = malloc(sizeof(float) * N), *dev = malloc(sizeof(float) * N);
    for (int k = 0; k < 3; k++) {
        int dt = dts[k], same = 1, differs = 0;
        for (int rep = 0; rep < 50; rep++) {
            random_blocks(dt, w, N);
            lmr_dequant_row(dt, w, ref, N);
            for (int64_t g = 0; g < N / 8; g++) lmr_qd_group(dt, w, g, dev + 8 * g);
            same &= memcmp(ref, dev, sizeof(float) * N) == 0;
            /* negative control: the first scale of the second block x 2 changes that block */
            uint8_t *blk = w + lmr_dtype_block_bytes(dt) + (dt == LMR_DTYPE_Q6_K ? 208 : 0);
            uint16_t h;
            memcpy(&h, blk, 2);
            h = lmr_f32_to_f16(2 * lmr_f16_to_f32(h));
            memcpy(blk, &h, 2);
            for (int64_t g = 0; g < N / 8; g++) lmr_qd_group(dt, w, g, dev + 8 * g);
            differs += memcmp(ref, dev, sizeof(float) * N) != 0;
        }
        CHECK(same, "%s: the device dequantisation (per lane) = the CPU one, 50 x %d random weights "
              "bit for bit", names[k], N);
        CHECK(differs == 50, "%s: one altered scale shows (negative control, %d/50)", names[k], differs);
    }
    lmr_qd_plan p;
    int ok = lmr_qd_gemv_plan(LMR_DTYPE_Q4_K, 1536, 8961, 19, &p) == 0 &&
             p.blocks * (p.threads / 32) >= 8961 && (p.blocks - 1) * (p.threads / 32) < 8961 &&
             p.n_launch * LMR_QD_MAX_TOK >= 19 && (p.n_launch - 1) * LMR_QD_MAX_TOK < 19;
    CHECK(ok, "GEMV plan: one warp per row (%d blocks of %d threads for 8961 rows), %d launches "
          "for 19 tokens", p.blocks, p.threads, p.n_launch);
    CHECK(lmr_qd_gemv_plan(LMR_DTYPE_Q4_K, 1000, 8, 1, &p) == -1 &&
              lmr_qd_gemv_plan(LMR_DTYPE_Q8_0, 48, 8, 1, &p) == -1 &&
              lmr_qd_gemv_plan(LMR_DTYPE_BF16, 256, 8, 1, &p) == -1 &&
              lmr_qd_gemv_plan(LMR_DTYPE_Q6_K, 256, 0, 1, &p) == -1 &&
              lmr_qd_gemv_plan(LMR_DTYPE_Q8_0, 64, 8, 1, &p) == 0,
          "GEMV plan refuses in not a multiple of the block, a non-quantised dtype, no rows");
    free(w), free(ref), free(dev);
    return check_summary();
}
