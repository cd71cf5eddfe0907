/* pool.c: the CPU thread pool. Workers are created once and wait for a dispatch by spinning a
 * short while (so back-to-back kernels cost no system call), then sleeping on a condition
 * variable. lmr_pool_run: the calling thread runs share 0 and waits for the others.
 * lmr_pool_run_chunks: all threads, the caller included, claim chunks until none are left. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"

#define SPIN_ITERS 20000 /* ~0.2-1 ms of polling before a worker sleeps */
#define PAUSE_ITERS 2000 /* then yield the core while polling (matters when oversubscribed) */

typedef struct {
    void *ptr;
    size_t cap;
    char pad[64 - sizeof(void *) - sizeof(size_t)]; /* one cache line per thread */
} scratch_slot;

enum { MODE_EVERY, MODE_CHUNKS };

/* A dispatch is published as: gen made odd, fields written, gen made even (a seqlock), so a
 * worker that reads gen, the fields, then gen again unchanged and even has a consistent view.
 * MODE_EVERY: every worker runs fn once and the caller waits for all of them (`pending`).
 * MODE_CHUNKS: threads claim chunk indices from `claim` ((gen << 32) | next) by CAS, so a claim
 * only succeeds while its dispatch is live; the caller also claims and returns once `done`
 * chunks are finished, never waiting for a worker that has not started (on a busy machine a
 * descheduled worker would otherwise cost a whole time slice per op). */
struct lmr_pool {
    int n;
    pthread_t *threads;    /* [n - 1] workers; ith = index + 1 */
    scratch_slot *scratch; /* [n] */
    int mode, n_chunks;
    lmr_task_fn fn;
    lmr_chunk_fn chunk_fn;
    void *ctx;
    _Alignas(64) _Atomic unsigned gen; /* even: a dispatch is published; odd: being written */
    _Atomic int pending;   /* MODE_EVERY: workers not yet done */
    _Atomic int sleeping;  /* workers blocked (or about to block) on cv */
    _Atomic int stop;
    _Alignas(64) _Atomic uint64_t claim; /* MODE_CHUNKS: (gen << 32) | next chunk */
    _Alignas(64) _Atomic int done;       /* MODE_CHUNKS: chunks finished */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int created;           /* workers actually started */
};

typedef struct {
    lmr_pool *p;
    int ith;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Claims and runs chunks of dispatch g until none are left or the dispatch is over. */
static void run_chunks(lmr_pool *p, unsigned g, lmr_chunk_fn fn, void *ctx, int n, int ith) {
    for (;;) {
        uint64_t c = atomic_load_explicit(&p->claim, memory_order_acquire);
        if ((unsigned)(c >> 32) != g || (int)(c & 0xffffffffu) >= n) return;
        if (!atomic_compare_exchange_weak(&p->claim, &c, c + 1)) continue;
        fn(ctx, ith, (int)(c & 0xffffffffu));
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
}

static int published(lmr_pool *p, unsigned seen) {
    unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
    return g != seen && !(g & 1);
}

static void *worker_main(void *argp) {
    worker_arg a = *(worker_arg *)argp;
    free(argp);
    lmr_pool *p = a.p;
    unsigned seen = 0; /* gen starts at 0; a dispatch may come before this thread runs */
    for (;;) {
        int spins = 0;
        while (!published(p, seen) && !atomic_load_explicit(&p->stop, memory_order_relaxed) &&
               spins < SPIN_ITERS) {
            if (++spins < PAUSE_ITERS) cpu_relax();
            else sched_yield();
        }
        if (!published(p, seen) && !atomic_load(&p->stop)) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleeping, 1);
            while (!published(p, seen) && !atomic_load(&p->stop)) pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleeping, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) return NULL;
        unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
        int mode = p->mode, n = p->n_chunks;
        lmr_task_fn fn = p->fn;
        lmr_chunk_fn cfn = p->chunk_fn;
        void *ctx = p->ctx;
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&p->gen, memory_order_relaxed) != g || (g & 1)) continue;
        seen = g;
        if (mode == MODE_CHUNKS) {
            run_chunks(p, g, cfn, ctx, n, a.ith);
        } else {
            fn(ctx, a.ith, p->n);
            atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
        }
    }
}

lmr_pool *lmr_pool_create(int n_threads) {
    if (n_threads < 1) return NULL;
    lmr_pool *p = NULL;
    if (posix_memalign((void **)&p, 64, sizeof *p) != 0) return NULL;
    memset(p, 0, sizeof *p);
    p->n = n_threads;
    p->scratch = calloc((size_t)n_threads + 1, sizeof *p->scratch); /* + the shared one */
    p->threads = calloc((size_t)n_threads, sizeof *p->threads);
    if (!p->scratch || !p->threads || pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p->scratch);
        free(p->threads);
        free(p);
        return NULL;
    }
    pthread_cond_init(&p->cv, NULL);
    for (int i = 1; i < n_threads; i++) {
        worker_arg *a = malloc(sizeof *a);
        if (!a) break;
        a->p = p;
        a->ith = i;
        if (pthread_create(&p->threads[i - 1], NULL, worker_main, a) != 0) {
            free(a);
            break;
        }
        p->created++;
    }
    if (p->created != n_threads - 1) {
        lmr_pool_destroy(p);
        return NULL;
    }
    return p;
}

void lmr_pool_destroy(lmr_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->created; i++) pthread_join(p->threads[i], NULL);
    for (int i = 0; i <= p->n; i++) free(p->scratch[i].ptr);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->scratch);
    free(p->threads);
    free(p);
}

int lmr_pool_size(const lmr_pool *p) { return p ? p->n : 1; }

/* Publishes a dispatch (the fields are written while gen is odd) and wakes sleepers; returns its
 * generation. */
static unsigned publish(lmr_pool *p, int mode, lmr_task_fn fn, lmr_chunk_fn cfn, void *ctx,
                        int n_chunks) {
    unsigned g = atomic_load_explicit(&p->gen, memory_order_relaxed) + 2;
    atomic_store(&p->gen, g - 1);
    atomic_thread_fence(memory_order_release); /* odd gen is visible before any field changes */
    p->mode = mode;
    p->fn = fn;
    p->chunk_fn = cfn;
    p->ctx = ctx;
    p->n_chunks = n_chunks;
    atomic_store(&p->pending, p->n - 1);
    atomic_store(&p->done, 0);
    atomic_store(&p->claim, (uint64_t)g << 32);
    atomic_store(&p->gen, g); /* seq_cst: pairs with the workers' `sleeping` increment */
    if (atomic_load(&p->sleeping) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    return g;
}

static void wait_until(_Atomic int *v, int target) {
    int spins = 0;
    while (atomic_load_explicit(v, memory_order_acquire) != target) {
        if (++spins < PAUSE_ITERS) cpu_relax();
        else sched_yield();
    }
}

void lmr_pool_run(lmr_pool *p, lmr_task_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    publish(p, MODE_EVERY, fn, NULL, ctx, 0);
    fn(ctx, 0, p->n);
    wait_until(&p->pending, 0);
}

void lmr_pool_run_chunks(lmr_pool *p, lmr_chunk_fn fn, void *ctx, int n_chunks) {
    if (n_chunks <= 0) return;
    if (!p || p->n == 1 || n_chunks == 1) {
        for (int c = 0; c < n_chunks; c++) fn(ctx, 0, c);
        return;
    }
    unsigned g = publish(p, MODE_CHUNKS, NULL, fn, ctx, n_chunks);
    run_chunks(p, g, fn, ctx, n_chunks, 0);
    wait_until(&p->done, n_chunks);
}

static void *slot_get(scratch_slot *s, size_t bytes);

void *lmr_pool_scratch(lmr_pool *p, int ith, size_t bytes) {
    static _Thread_local scratch_slot own; /* p == NULL: the calling thread's own (kept) */
    return slot_get(p ? &p->scratch[ith] : &own, bytes);
}

void *lmr_pool_shared_scratch(lmr_pool *p, size_t bytes) {
    static _Thread_local scratch_slot own_shared;
    return slot_get(p ? &p->scratch[p->n] : &own_shared, bytes);
}

static void *slot_get(scratch_slot *s, size_t bytes) {
    if (s->cap >= bytes) return s->ptr;
    void *n = NULL;
    if (posix_memalign(&n, 64, bytes) != 0) return NULL;
    free(s->ptr);
    s->ptr = n;
    s->cap = bytes;
    return n;
}
