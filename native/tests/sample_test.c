/* sample_test.c: host sampling (sample.c): greedy ties, seeded determinism, top-k = 1 and tiny
 * top-p equal greedy, and the sampled distributions (temperature, top-k, top-p, both) match the
 * expected ones by a chi-square test at the 0.999 level on 40000 draws (seeded, so stable). */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "internal.h"

static lmr_sampler_params sp(float t, int32_t k, float p, uint64_t seed) {
    lmr_sampler_params s = lmr_sampler_params_default();
    s.temperature = t;
    s.top_k = k;
    s.top_p = p;
    s.seed = seed;
    return s;
}

/* Chi-square 0.999 critical values by degrees of freedom 1..10. */
static const double CRIT[] = {0, 10.83, 13.82, 16.27, 18.47, 20.52, 22.46, 24.32, 26.12, 27.88,
                              29.59};

/* Expected probabilities after temperature, top-k and top-p (HF order), by brute force. */
static void expected(const float *l, int n, float t, int k, float p, double *out) {
    int idx[16];
    double pr[16], sum = 0;
    for (int i = 0; i < n; i++) idx[i] = i, pr[i] = exp((double)l[i] / t);
    for (int i = 0; i < n; i++) /* sort ids by logit descending, id ascending on ties */
        for (int j = i + 1; j < n; j++)
            if (l[idx[j]] > l[idx[i]] || (l[idx[j]] == l[idx[i]] && idx[j] < idx[i])) {
                int x = idx[i];
                idx[i] = idx[j];
                idx[j] = x;
            }
    int keep = k > 0 && k < n ? k : n;
    for (int i = 0; i < keep; i++) sum += pr[idx[i]];
    if (p < 1.0f) {
        double cum = 0;
        for (int i = 0; i < keep; i++)
            if ((cum += pr[idx[i]] / sum) >= p) {
                keep = i + 1;
                break;
            }
        sum = 0;
        for (int i = 0; i < keep; i++) sum += pr[idx[i]];
    }
    for (int i = 0; i < n; i++) out[i] = 0;
    for (int i = 0; i < keep; i++) out[idx[i]] = pr[idx[i]] / sum;
}

static void distribution(const char *what, const float *l, int n, lmr_sampler_params p) {
    enum { DRAWS = 40000 };
    double want[16];
    long got[16] = {0};
    expected(l, n, p.temperature, p.top_k, p.top_p, want);
    lmr_rng r;
    lmr_rng_seed(&r, p.seed);
    lmr_cand cand[16];
    for (int i = 0; i < DRAWS; i++) got[lmr_sample_logits(l, n, &p, &r, cand)]++;
    double chi = 0;
    int dof = -1, outside = 0;
    for (int i = 0; i < n; i++) {
        if (want[i] == 0) {
            outside += got[i] != 0;
            continue;
        }
        double e = want[i] * DRAWS;
        chi += (got[i] - e) * (got[i] - e) / e;
        dof++;
    }
    CHECK(!outside && dof >= 1 && chi < CRIT[dof],
          "%s: chi2 %.2f < %.2f (%d dof), no draw outside the kept set", what, chi, CRIT[dof],
          dof);
}

int main(void) {
    lmr_cand cand[4096];
    lmr_rng r;
    lmr_rng_seed(&r, 1);

    float ties[] = {1.0f, 3.0f, -2.0f, 3.0f, 2.9f};
    lmr_sampler_params g = sp(0, 0, 1, 0);
    CHECK(lmr_sample_logits(ties, 5, &g, &r, cand) == 1, "greedy: lowest id among tied maxima");
    float neg[] = {-5.0f, -1.0f, -1.0f};
    CHECK(lmr_sample_logits(neg, 3, &g, &r, cand) == 1, "greedy on negative logits: id 1");

    /* Random logit vectors: top_k = 1 and tiny top_p give the argmax at any temperature. */
    float big[4096];
    uint32_t x = 7;
    int k1 = 1, p0 = 1;
    for (int trial = 0; trial < 50; trial++) {
        int best = 0;
        for (int i = 0; i < 4096; i++) {
            x = x * 1664525u + 1013904223u;
            big[i] = (float)((x >> 8) % 100000) / 7000.0f;
            if (big[i] > big[best]) best = i;
        }
        lmr_sampler_params a = sp(1.5f, 1, 1, trial), b = sp(1.0f, 0, 1e-6f, trial);
        k1 &= lmr_sample_logits(big, 4096, &a, &r, cand) == best;
        p0 &= lmr_sample_logits(big, 4096, &b, &r, cand) == best;
    }
    CHECK(k1, "top_k = 1 equals greedy on 50 random vectors of 4096");
    CHECK(p0, "top_p = 1e-6 equals greedy on 50 random vectors of 4096");

    /* Determinism: the same seed gives the same draws; another seed others. */
    lmr_sampler_params t = sp(1.0f, 0, 0.95f, 42);
    int32_t a[200], b[200], c[200];
    lmr_rng_seed(&r, 42);
    for (int i = 0; i < 200; i++) a[i] = lmr_sample_logits(big, 4096, &t, &r, cand);
    lmr_rng_seed(&r, 42);
    for (int i = 0; i < 200; i++) b[i] = lmr_sample_logits(big, 4096, &t, &r, cand);
    lmr_rng_seed(&r, 43);
    for (int i = 0; i < 200; i++) c[i] = lmr_sample_logits(big, 4096, &t, &r, cand);
    CHECK(memcmp(a, b, sizeof a) == 0, "seed 42 twice: identical 200 draws");
    CHECK(memcmp(a, c, sizeof a) != 0, "seed 43: different draws");

    float l[8] = {2.0f, 1.5f, 1.4f, 0.3f, 0.0f, -0.5f, -1.0f, 1.5f};
    distribution("temperature 0.7", l, 8, sp(0.7f, 0, 1, 1));
    distribution("temperature 1.3", l, 8, sp(1.3f, 0, 1, 2));
    distribution("top_k 3", l, 8, sp(1.0f, 3, 1, 3));
    distribution("top_k 2 (tie at the cut: lower id kept)", l, 8, sp(1.0f, 2, 1, 7));
    distribution("top_p 0.6", l, 8, sp(1.0f, 0, 0.6f, 4));
    distribution("top_p 0.9 at temperature 0.5", l, 8, sp(0.5f, 0, 0.9f, 5));
    distribution("top_k 5 then top_p 0.7", l, 8, sp(0.8f, 5, 0.7f, 6));

    /* Parameter checks. */
    char err[256];
    lmr_sampler_params bad = sp(-1, 0, 1, 0);
    CHECK(lmr_sampler_check(&bad, err, sizeof err) == LMR_ERR_INVALID_ARG &&
              strstr(err, "temperature"),
          "temperature -1 refused: %s", err);
    bad = sp(NAN, 0, 1, 0);
    CHECK(lmr_sampler_check(&bad, err, sizeof err) == LMR_ERR_INVALID_ARG &&
              strstr(err, "temperature"),
          "temperature NaN refused: %s", err);
    bad = sp(1, -2, 1, 0);
    CHECK(lmr_sampler_check(&bad, err, sizeof err) == LMR_ERR_INVALID_ARG && strstr(err, "top_k"),
          "top_k -2 refused: %s", err);
    bad = sp(1, 0, 0, 0);
    CHECK(lmr_sampler_check(&bad, err, sizeof err) == LMR_ERR_INVALID_ARG && strstr(err, "top_p"),
          "top_p 0 refused: %s", err);
    bad = sp(1, 0, 1.5f, 0);
    CHECK(lmr_sampler_check(&bad, err, sizeof err) == LMR_ERR_INVALID_ARG && strstr(err, "top_p"),
          "top_p 1.5 refused: %s", err);

    /* Non-finite logits are found wherever they are (the samplers assume finite logits). */
    float fin[37];
    for (int i = 0; i < 37; i++) fin[i] = (float)i - 18.0f;
    int32_t first = 99;
    CHECK(lmr_logits_nonfinite(fin, 37, &first) == 0 && first == -1, "finite logits: none found");
    fin[36] = INFINITY;
    CHECK(lmr_logits_nonfinite(fin, 37, &first) == 1 && first == 36, "+inf at the end found");
    fin[5] = NAN;
    fin[7] = -INFINITY;
    CHECK(lmr_logits_nonfinite(fin, 37, &first) == 3 && first == 5, "NaN and -inf counted: %d",
          first);
    lmr_rng rr;
    lmr_rng_seed(&rr, 1);
    lmr_cand cc[37];
    lmr_sampler_params gp = sp(0, 0, 1, 0), tp = sp(0.8f, 10, 0.9f, 0);
    CHECK(lmr_sample_logits(fin, 37, &gp, &rr, cc) == -1 &&
              lmr_sample_logits(fin, 37, &tp, &rr, cc) == -1,
          "greedy and temperature sampling refuse non-finite logits (-1, never token 0)");
    fin[5] = 0, fin[7] = 0, fin[36] = 0;
    CHECK(lmr_sample_logits(fin, 37, &gp, &rr, cc) == 35, "negative control: finite again, argmax 35");
    bad = sp(0.7f, 40, 0.9f, 9);
    CHECK(lmr_sampler_check(&bad, err, sizeof err) == LMR_OK, "typical params accepted");
    return check_summary();
}
