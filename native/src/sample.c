/* sample.c: host sampling from a logit vector, in the order Hugging Face applies its warpers:
 * temperature, top-k, then top-p (nucleus) on the renormalised survivors. temperature == 0 is
 * greedy (argmax, lowest id on ties). Draws come from the sequence's xoshiro256** generator, so
 * a given seed always yields the same tokens. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void lmr_rng_seed(lmr_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    r->seed = seed;
    r->seeded = 1;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lmr_rng_next(lmr_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double lmr_rng_uniform(lmr_rng *r) { return (double)(lmr_rng_next(r) >> 11) * 0x1.0p-53; }

lmr_status lmr_sampler_check(const lmr_sampler_params *p, char *err, size_t errcap) {
    if (!(p->temperature >= 0.0f) || isinf(p->temperature))
        return snprintf(err, errcap, "sampler temperature %g must be finite and >= 0",
                        (double)p->temperature),
               LMR_ERR_INVALID_ARG;
    if (p->top_k < 0)
        return snprintf(err, errcap, "sampler top_k %d must be >= 0 (0 = off)", p->top_k),
               LMR_ERR_INVALID_ARG;
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f))
        return snprintf(err, errcap, "sampler top_p %g must be in (0, 1] (1 = off)",
                        (double)p->top_p),
               LMR_ERR_INVALID_ARG;
    return LMR_OK;
}

int32_t lmr_logits_nonfinite(const float *logits, int32_t vocab, int32_t *first) {
    /* Exponent bits all ones: NaN or infinity. Branch-free so the compiler vectorises it. */
    int32_t n = 0;
    for (int32_t i = 0; i < vocab; i++) {
        uint32_t b;
        memcpy(&b, &logits[i], sizeof b);
        n += (b & 0x7f800000u) == 0x7f800000u;
    }
    *first = -1;
    for (int32_t i = 0; n && i < vocab; i++)
        if (!isfinite(logits[i])) {
            *first = i;
            break;
        }
    return n;
}

/* Order: higher probability first, lower id first among equals. */
static int cand_before(const lmr_cand *a, const lmr_cand *b) {
    return a->p > b->p || (a->p == b->p && a->id < b->id);
}

static int cand_cmp(const void *x, const void *y) {
    const lmr_cand *a = x, *b = y;
    return cand_before(a, b) ? -1 : cand_before(b, a) ? 1 : 0;
}

/* Keep the k best of c[0..n) in c[0..k) as a heap whose root is the worst kept. */
static void heap_down(lmr_cand *h, int32_t k, int32_t i) {
    for (;;) {
        int32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < k && cand_before(&h[w], &h[l])) w = l;
        if (r < k && cand_before(&h[w], &h[r])) w = r;
        if (w == i) return;
        lmr_cand t = h[i];
        h[i] = h[w];
        h[w] = t;
        i = w;
    }
}

static int32_t top_k_select(lmr_cand *c, int32_t n, int32_t k) {
    for (int32_t i = k / 2 - 1; i >= 0; i--) heap_down(c, k, i);
    for (int32_t i = k; i < n; i++) {
        if (cand_before(&c[i], &c[0])) {
            c[0] = c[i];
            heap_down(c, k, 0);
        }
    }
    return k;
}

int32_t lmr_sample_logits(const float *logits, int32_t vocab, const lmr_sampler_params *p,
                          lmr_rng *rng, lmr_cand *cand) {
    int32_t first;
    if (lmr_logits_nonfinite(logits, vocab, &first)) return -1;
    int32_t best = 0;
    for (int32_t i = 1; i < vocab; i++)
        if (logits[i] > logits[best]) best = i;
    if (p->temperature == 0.0f || p->top_k == 1) return best;

    /* Unnormalised probabilities exp((l - max) / T); the best token has 1. */
    double inv_t = 1.0 / (double)p->temperature, max = logits[best];
    int32_t n = vocab;
    for (int32_t i = 0; i < vocab; i++)
        cand[i] = (lmr_cand){(float)exp(((double)logits[i] - max) * inv_t), i};

    int sorted = 0;
    if (p->top_k > 0 && p->top_k < vocab) {
        n = top_k_select(cand, vocab, p->top_k);
        qsort(cand, (size_t)n, sizeof(lmr_cand), cand_cmp);
        sorted = 1;
    }
    double total = 0.0;
    for (int32_t i = 0; i < n; i++) total += cand[i].p;

    if (p->top_p < 1.0f) {
        if (!sorted) {
            /* Tokens below c can't enter the nucleus: together they hold under n*c of the mass,
             * less than 1 - top_p, so the sorted survivors are a prefix of the full order. */
            double c = (1.0 - (double)p->top_p) * total / (2.0 * n);
            int32_t kept = 0;
            for (int32_t i = 0; i < n; i++)
                if (cand[i].p >= c) cand[kept++] = cand[i];
            n = kept;
            qsort(cand, (size_t)n, sizeof(lmr_cand), cand_cmp);
        }
        /* Smallest prefix whose mass reaches top_p of the (renormalised) total. */
        double want = (double)p->top_p * total, cum = 0.0;
        int32_t keep = n;
        for (int32_t i = 0; i < n; i++) {
            cum += cand[i].p;
            if (cum >= want) {
                keep = i + 1;
                break;
            }
        }
        n = keep;
        total = 0.0;
        for (int32_t i = 0; i < n; i++) total += cand[i].p;
    }

    double u = lmr_rng_uniform(rng) * total, cum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        cum += cand[i].p;
        if (u < cum) return cand[i].id;
    }
    return cand[n - 1].id; /* u within rounding of total */
}
