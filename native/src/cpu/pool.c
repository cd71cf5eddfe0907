/* pool.c: the CPU thread pool. Workers are created once and wait for a dispatch by spinning a
 * short while (so back-to-back kernels cost no system call), then sleeping on a condition
 * variable. The calling thread runs share 0 and waits for the others. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
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

struct lmr_pool {
    int n;
    pthread_t *threads; /* [n - 1] workers; ith = index + 1 */
    scratch_slot *scratch; /* [n] */
    lmr_task_fn fn;
    void *ctx;
    _Atomic unsigned gen;  /* bumped once per dispatch */
    _Atomic int pending;   /* workers not yet done with the current dispatch */
    _Atomic int sleeping;  /* workers blocked (or about to block) on cv */
    _Atomic int stop;
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

static void *worker_main(void *argp) {
    worker_arg a = *(worker_arg *)argp;
    free(argp);
    lmr_pool *p = a.p;
    unsigned seen = 0; /* gen starts at 0; a dispatch may come before this thread runs */
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&p->gen, memory_order_acquire) == seen &&
               !atomic_load_explicit(&p->stop, memory_order_relaxed) && spins < SPIN_ITERS) {
            if (++spins < PAUSE_ITERS) cpu_relax();
            else sched_yield();
        }
        if (atomic_load(&p->gen) == seen && !atomic_load(&p->stop)) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleeping, 1);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleeping, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = atomic_load_explicit(&p->gen, memory_order_acquire);
        p->fn(p->ctx, a.ith, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
}

lmr_pool *lmr_pool_create(int n_threads) {
    if (n_threads < 1) return NULL;
    lmr_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads;
    p->scratch = calloc((size_t)n_threads, sizeof *p->scratch);
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
    for (int i = 0; i < p->n; i++) free(p->scratch[i].ptr);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->scratch);
    free(p->threads);
    free(p);
}

int lmr_pool_size(const lmr_pool *p) { return p ? p->n : 1; }

void lmr_pool_run(lmr_pool *p, lmr_task_fn fn, void *ctx) {
    if (!p || p->n == 1) {
        fn(ctx, 0, 1);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->pending, p->n - 1);
    atomic_fetch_add(&p->gen, 1); /* seq_cst: pairs with the workers' `sleeping` increment */
    if (atomic_load(&p->sleeping) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    fn(ctx, 0, p->n);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0) {
        if (++spins < PAUSE_ITERS) cpu_relax();
        else sched_yield();
    }
}

void *lmr_pool_scratch(lmr_pool *p, int ith, size_t bytes) {
    static _Thread_local scratch_slot own; /* p == NULL: the calling thread's own (kept) */
    scratch_slot *s = p ? &p->scratch[ith] : &own;
    if (s->cap >= bytes) return s->ptr;
    void *n = NULL;
    if (posix_memalign(&n, 64, bytes) != 0) return NULL;
    free(s->ptr);
    s->ptr = n;
    s->cap = bytes;
    return n;
}
