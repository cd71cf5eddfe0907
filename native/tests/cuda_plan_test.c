/* cuda_plan_test.c: the CUDA backend's host-side plans (src/cuda/plan.h), on any machine:
 * graph buckets (1..64 -> at most 7 captures), the split-K plan of the batched GEMM (enough
 * blocks, K covered exactly, workspace bound, independent of the batch within 17..64), the
 * model shapes refused at load, the decode attention grid (fixed blocks looping over splits:
 * every split exactly once, grid bounded), the prefill GEMM tiles (a wave on every SM) and the
 * GEMV launch geometry (shared memory under 48 KiB, rows covered, lane mapping kept, blocks for
 * every SM) for the Qwen2.5 shapes on an H100/H200 (132 SMs) and an A100 (108). */
#include "check.h"
#include "cuda/plan.h"

#include <string.h>


/* ---- model shapes refused at load ---- */
static void shape_checks(void) {
    char err[256];
    /* preset shapes: hidden, ffn, heads, kv heads, head_dim (qwen2.5 0.5b/1.5b/3b, tinyllama,
     * tiny-qwen2) */
    const int ok_shapes[][5] = {{896, 4864, 14, 2, 64},  {1536, 8960, 12, 2, 128},
                                {2048, 11008, 16, 2, 128}, {2048, 5632, 32, 4, 64},
                                {64, 128, 4, 2, 16},     {512, 1024, 8, 8, 32}};
    int all = 1;
    for (unsigned i = 0; i < sizeof ok_shapes / sizeof ok_shapes[0]; i++)
        for (int dt = 0; dt < 3; dt++)
            all &= lmr_cuda_shape_check(ok_shapes[i][0], ok_shapes[i][1], ok_shapes[i][2],
                                        ok_shapes[i][3], ok_shapes[i][4], dt, err,
                                        sizeof err) == 0;
    CHECK(all, "shapes: the presets (head_dim 16/32/64/128, groups 1-8) in F32/F16/BF16 load");
    struct {
        int hid, ffn, nh, nkv, hd, dt;
        const char *key;
    } bad[] = {{2560, 6912, 32, 8, 80, 2, "head_dim 80"},   {4096, 8192, 16, 16, 256, 2, "head_dim 256"},
               {1536, 8960, 24, 2, 64, 2, "12 query heads per KV head"},
               {1536, 8960, 12, 5, 128, 2, "12 query heads over 5 KV heads"},
               {1536, 8960, 12, 0, 128, 2, "over 0 KV heads"},
               {1536, 8960, 12, 2, 128, 3, "weight dtype 3"},
               {0, 8960, 12, 2, 128, 2, "hidden 0"},     {1536, 8960, 12, 2, 96, 2, "head_dim 96"}};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        int r = lmr_cuda_shape_check(bad[i].hid, bad[i].ffn, bad[i].nh, bad[i].nkv, bad[i].hd,
                                     bad[i].dt, err, sizeof err);
        CHECK(r == -1 && strstr(err, bad[i].key) && strstr(err, "CUDA backend"),
              "shapes: refused: %s", err);
    }
    /* the group limit is the kernel's: 8 loads, 9 does not */
    CHECK(lmr_cuda_shape_check(1024, 4096, 16, 2, 64, 2, err, sizeof err) == 0 &&
              lmr_cuda_shape_check(1152, 4096, 18, 2, 64, 2, err, sizeof err) == -1,
          "shapes: group 8 loads, group 9 is refused");
}

/* ---- decode attention: fixed blocks per (KV head, token) looping over splits ---- */
static void attention_grid(int sms) {
    const int split = 256;
    int ok_all = 1;
    for (int ctx = 256; ctx <= 32768; ctx *= 2) {
        const int ns = (ctx + split - 1) / split;
        for (int T = 1; T <= 64; T *= 2) {
            const int b = lmr_cuda_att_blocks(ns, 2, T, sms);
            ok_all &= b >= 1 && b <= ns;
            /* the kernel's loop, for lengths around split boundaries: each split once */
            const int lens[] = {0, 1, 255, 256, 257, ctx / 2 + 1, ctx - 1, ctx};
            for (unsigned li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                int len = lens[li], seen[128] = {0}, want = (len + split - 1) / split;
                if (len > ctx) continue; /* positions stay below max_ctx */
                for (int bx = 0; bx < b; bx++) {
                    if ((int64_t)bx * split >= len) continue; /* the early exit */
                    for (int s = bx; (int64_t)s * split < len; s += b)
                        if (s < 128) seen[s]++;
                        else ok_all = 0;
                }
                for (int s = 0; s < 128; s++) ok_all &= seen[s] == (s < want ? 1 : 0);
                ok_all &= want <= ns;
            }
        }
    }
    CHECK(ok_all, "attention grid (%d SMs): every split of every length run exactly once, "
                  "blocks in [1, splits]", sms);
    const int b64 = lmr_cuda_att_blocks(128, 2, 64, sms), b1 = lmr_cuda_att_blocks(128, 2, 1, sms);
    CHECK(64 * 2 * b64 <= 4 * sms + 128 && 64 * 2 * b64 >= sms,
          "attention grid: batch 64 at max_ctx 32768: %d blocks (was 16384), >= %d SMs",
          64 * 2 * b64, sms);
    CHECK(b1 == 128, "attention grid: batch 1 at max_ctx 32768: %d blocks per KV head (one per "
                     "split, as before)", b1);
    CHECK(lmr_cuda_att_blocks(2, 2, 1, sms) == 2 && lmr_cuda_att_blocks(0, 2, 1, sms) == 1,
          "attention grid: never more blocks than splits, at least one");
}

/* ---- prefill GEMM tiles ---- */
static void gemm_tiles(int sms) {
    const int outs[] = {2048, 1536, 17920, 1536}; /* q/k/v, o, gate/up, down (Qwen2.5-1.5B) */
    const int ns[] = {65, 128, 300, 1024, 4096};
    int ok_all = 1;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 5; j++) {
            const int n = ns[j], out = outs[i];
            const int big = lmr_cuda_gemm_big_tiles(n, out, sms);
            const int64_t b128 = (int64_t)((out + 127) / 128) * ((n + 127) / 128);
            const int64_t b64 = (int64_t)((out + 63) / 64) * ((n + 63) / 64);
            const int64_t blocks = big ? b128 : b64;
            ok_all &= big == (b128 >= 2 * sms);
            /* a full wave when the work allows it */
            ok_all &= blocks >= sms || b64 < sms;
        }
    CHECK(ok_all, "prefill GEMM tiles (%d SMs): 128 x 128 only with two blocks per SM, else "
                  "64 x 64", sms);
    CHECK(!lmr_cuda_gemm_big_tiles(1024, 2048, sms) && !lmr_cuda_gemm_big_tiles(1024, 1536, sms) &&
              lmr_cuda_gemm_big_tiles(1024, 17920, sms) && !lmr_cuda_gemm_big_tiles(64, 17920, sms),
          "prefill GEMM at 1024 tokens: q/k/v %d, o/down %d small tiles; gate/up %d big ones",
          32 * 16, 24 * 16, 140 * 8);
}

/* ---- GEMV launch geometry ---- */
static void gemv_geometry(int sms) {
    struct { int in, out; const char *name; } sh[] = {
        {1536, 2048, "qkv"}, {1536, 1536, "o"},       {1536, 17920, "gate_up"},
        {8960, 1536, "down"}, {1536, 151936, "lm_head"}, {896, 1152, "qkv 0.5b"},
        {4864, 896, "down 0.5b"}, {64, 128, "tiny"}, {2048, 22016, "gate_up 3b"}};
    int ok_all = 1, spread = 1;
    char worst[160] = "";
    for (unsigned i = 0; i < sizeof sh / sizeof sh[0]; i++)
        for (int nb = 1; nb <= 16; nb *= 2)
            for (int v = 4; v <= 8; v *= 2) {
                const lmr_cuda_gemv_geom g = lmr_cuda_gemv_plan(nb, sh[i].in, sh[i].out, v, sms);
                const int rpb = 2 * g.warps * g.passes;
                const int whole = g.kt >= sh[i].in;
                int ok = (g.warps == 2 || g.warps == 4) && g.passes >= 1 && rpb <= 64 &&
                         (int64_t)g.blocks * rpb >= sh[i].out &&
                         (int64_t)(g.blocks - 1) * rpb < sh[i].out &&
                         g.smem == nb * g.kt * 4 && g.smem + 16 * 4 <= 48 * 1024 &&
                         (whole ? g.kt == sh[i].in && (int64_t)nb * sh[i].in <= LMR_CUDA_GEMV_SMEM_FLOATS
                                : g.kt % (32 * v) == 0 && g.passes == 1 &&
                                      (int64_t)nb * sh[i].in > LMR_CUDA_GEMV_SMEM_FLOATS);
                /* the kernel's row mapping: block b, warp w, pass p own rows r0, r0 + 1 with
                 * r0 = b 2 W P + 2 (w + W p); every row exactly once */
                if (sh[i].out <= 20000) {
                    static unsigned char seen[20000];
                    memset(seen, 0, sizeof seen);
                    for (int b = 0; b < g.blocks; b++)
                        for (int w = 0; w < g.warps; w++)
                            for (int p = 0; p < g.passes; p++) {
                                const int r0 = b * 2 * g.warps * g.passes + 2 * (w + g.warps * p);
                                if (r0 >= sh[i].out) continue;
                                seen[r0]++;
                                if (r0 + 1 < sh[i].out) seen[r0 + 1]++;
                            }
                    for (int r = 0; r < sh[i].out; r++) ok &= seen[r] == 1;
                }
                /* tiles start at multiples of 32 vectors: element k -> lane (k / v) % 32 */
                for (int k0 = 0; k0 < sh[i].in && !whole; k0 += g.kt) ok &= k0 % (32 * v) == 0;
                if (!ok) snprintf(worst, sizeof worst, "%s nb %d v %d", sh[i].name, nb, v);
                ok_all &= ok;
                /* every SM gets a block wherever the rows allow it (4 rows per block at least) */
                if (sh[i].out >= 4 * sms) spread &= g.blocks >= sms;
            }
    CHECK(ok_all, "GEMV geometry (%d SMs): rows covered, <= 64 per block, shared memory sized to "
                  "need under 48 KiB, tiles of 32 vectors %s", sms, worst);
    CHECK(spread, "GEMV geometry (%d SMs): at least one block per SM for every matrix of >= %d "
                  "rows", sms, 4 * sms);
    if (sms != 132) return;
    lmr_cuda_gemv_geom lm = lmr_cuda_gemv_plan(1, 1536, 151936, 8, sms);
    lmr_cuda_gemv_geom gu = lmr_cuda_gemv_plan(1, 1536, 17920, 8, sms);
    lmr_cuda_gemv_geom o = lmr_cuda_gemv_plan(1, 1536, 1536, 8, sms);
    lmr_cuda_gemv_geom dn1 = lmr_cuda_gemv_plan(1, 8960, 1536, 8, sms);
    lmr_cuda_gemv_geom dn2 = lmr_cuda_gemv_plan(2, 8960, 1536, 8, sms);
    lmr_cuda_gemv_geom q8 = lmr_cuda_gemv_plan(8, 1536, 2048, 8, sms);
    CHECK(2 * lm.warps * lm.passes == 64 && lm.smem == 6144,
          "GEMV lm_head, batch 1: %d rows per block, %d blocks, %d B of shared memory",
          2 * lm.warps * lm.passes, lm.blocks, lm.smem);
    CHECK(2 * gu.warps * gu.passes == 32, "GEMV gate/up, batch 1: %d rows per block, %d blocks",
          2 * gu.warps * gu.passes, gu.blocks);
    CHECK(o.warps == 2 && o.blocks == 384, "GEMV o, batch 1: %d warps, %d blocks (was 192)",
          o.warps, o.blocks);
    CHECK(dn1.kt == 8960 && dn1.smem == 35840 && dn2.kt == 5888 && dn2.passes == 1,
          "GEMV down: batch 1 stages x whole (%d B), batch 2 in tiles of %d", dn1.smem, dn2.kt);
    CHECK(q8.kt == 1280 && q8.smem == 40960,
          "GEMV qkv, batch 8: 8 x 1536 floats exceed the budget: tiles of %d", q8.kt);
}

/* LMR_CUDA_GEMV_MAX: 1..16 taken, anything else the default */
static void check_gemv_max(void) {
    CHECK(lmr_cuda_gemv_max_parse(NULL) == LMR_CUDA_GEMV_MAX_DEFAULT &&
              lmr_cuda_gemv_max_parse("") == LMR_CUDA_GEMV_MAX_DEFAULT &&
              lmr_cuda_gemv_max_parse("1") == 1 && lmr_cuda_gemv_max_parse("16") == 16 &&
              lmr_cuda_gemv_max_parse("0") == LMR_CUDA_GEMV_MAX_DEFAULT &&
              lmr_cuda_gemv_max_parse("17") == LMR_CUDA_GEMV_MAX_DEFAULT &&
              lmr_cuda_gemv_max_parse("4x") == LMR_CUDA_GEMV_MAX_DEFAULT &&
              lmr_cuda_gemv_max_parse("-3") == LMR_CUDA_GEMV_MAX_DEFAULT,
          "LMR_CUDA_GEMV_MAX: 1..16 taken, unset/empty/0/17/4x/-3 give the default %d",
          LMR_CUDA_GEMV_MAX_DEFAULT);
}

/* decode attention splits: a multiple of 32 keys, at most 256 splits, never more than the
 * part buffer's slots for any cache length up to max_ctx; 32 keys up to 8K positions */
static void check_att_split(void) {
    int ok = 1, worst = 0;
    const int ctxs[4] = {1, 512, 8200, 40000};
    for (int c = 0; c < 4; c++) {
        const int slots = lmr_cuda_att_splits_max(ctxs[c]);
        for (int len = 1; len <= ctxs[c]; len++) {
            const int sp = lmr_cuda_att_split(len), ns = (len + sp - 1) / sp;
            ok &= sp % 32 == 0 && sp >= 32 && ns <= 256 && ns <= slots;
            if (ns > worst) worst = ns;
        }
    }
    CHECK(ok && worst == 256 && lmr_cuda_att_split(8192) == 32 && lmr_cuda_att_split(8193) == 64 &&
              lmr_cuda_att_split(32640) == 128 && lmr_cuda_att_splits_max(100) == 4,
          "decode attention: keys per split a multiple of 32, at most 256 splits, within the "
          "part buffer for every length up to 40000 (most splits %d)", worst);
}

int main(void) {
    int ok = 1, slots[LMR_CUDA_BUCKET_SLOTS] = {0}, used = 0;
    check_gemv_max();
    check_att_split();
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
    shape_checks();
    attention_grid(132);
    attention_grid(108);
    gemm_tiles(132);
    gemm_tiles(108);
    gemv_geometry(132);
    gemv_geometry(108);
    return check_summary();
}
