/* driver.c: a plain main() for the libFuzzer targets, so gcc builds and CTest runs them (the
 * sanitizer build is where they find most). No coverage feedback: it runs every seed, then
 * mutates seeds blindly (bit flips, byte sets, interesting values, digit edits, insertions,
 * deletions, truncations, splices) until the time is up, from a fixed seed, so a failure is
 * reproducible by its printed seed and case number.
 *   fuzz_<target> [-seconds S] [-seed N] [-max_len L] [files or folders of seed inputs...]
 * The target may add its own seeds by defining lmr_fuzz_seeds (see fuzz_safetensors.c). A
 * crash or abort is the failure; the program exits 0 after a clean run. With clang and
 * -fsanitize=fuzzer the same targets build without this file (build.sh). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
/* Optional: the target's built-in seeds, handed to add(). */
__attribute__((weak)) void lmr_fuzz_seeds(void (*add)(const unsigned char *data, size_t size));

typedef struct {
    unsigned char *data;
    size_t size;
} input;

static input *corpus;
static size_t n_corpus, cap_corpus;

static void add(const unsigned char *data, size_t size) {
    if (n_corpus == cap_corpus) {
        cap_corpus = cap_corpus ? 2 * cap_corpus : 16;
        corpus = realloc(corpus, cap_corpus * sizeof *corpus);
        if (!corpus) abort();
    }
    input *in = &corpus[n_corpus++];
    in->data = malloc(size ? size : 1);
    if (!in->data) abort();
    memcpy(in->data, data, size);
    in->size = size;
}

static void add_path(const char *path) {
    struct stat sb;
    if (stat(path, &sb)) {
        fprintf(stderr, "fuzz driver: %s: cannot stat\n", path);
        exit(2);
    }
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char p[4096];
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            add_path(p);
        }
        if (d) closedir(d);
        return;
    }
    if (!S_ISREG(sb.st_mode)) return;
    FILE *f = fopen(path, "rb");
    unsigned char *b = malloc((size_t)sb.st_size + 1);
    size_t n = f && b ? fread(b, 1, (size_t)sb.st_size, f) : 0;
    if (f) fclose(f);
    add(b, n);
    free(b);
}

/* The case running now, for the crash report. */
static volatile uint64_t cur_case;
static uint64_t cur_seed;
static const unsigned char *cur_data;
static size_t cur_size;

/* On abort (a failed check, or a sanitizer report with abort_on_error=1): name the case and
 * write its input to ./fuzz-crash-<seed>-<case>; async-signal-safe calls only. */
static void on_abort(int sig) {
    char name[96], msg[160];
    snprintf(name, sizeof name, "fuzz-crash-%llu-%llu", (unsigned long long)cur_seed,
             (unsigned long long)cur_case);
    int k = snprintf(msg, sizeof msg, "fuzz driver: case %llu (seed %llu) failed; input in %s\n",
                     (unsigned long long)cur_case, (unsigned long long)cur_seed, name);
    if (write(2, msg, (size_t)k) < 0) k = 0;
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        if (cur_data && write(fd, cur_data, cur_size) < 0) k = 0;
        close(fd);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static uint64_t rng;
static uint64_t next(void) { /* xorshift64* */
    rng ^= rng >> 12, rng ^= rng << 25, rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dull;
}
static size_t below(size_t n) { return n ? (size_t)(next() % n) : 0; }

/* One to four random edits of buf[*n] (capacity cap) in place. */
static void mutate(unsigned char *buf, size_t *n, size_t cap) {
    static const int64_t interesting[] = {0, 1, -1, 127, 128, 255, 256, 32767, 65535, 2147483647,
                                          -2147483648LL, 4294967295LL};
    int edits = 1 + (int)below(4);
    for (int k = 0; k < edits; k++) {
        size_t len = *n;
        switch (below(8)) {
        case 0: /* bit flip */
            if (len) buf[below(len)] ^= (unsigned char)(1u << below(8));
            break;
        case 1: /* random byte */
            if (len) buf[below(len)] = (unsigned char)next();
            break;
        case 2: { /* a digit changed or a number replaced (aimed at JSON text) */
            if (!len) break;
            size_t at = below(len);
            while (at < len && (buf[at] < '0' || buf[at] > '9')) at++;
            if (at == len) break;
            if (below(2)) buf[at] = (unsigned char)('0' + below(10));
            else {
                char num[32];
                int w = snprintf(num, sizeof num, "%lld",
                                 (long long)interesting[below(sizeof interesting / 8)]);
                size_t end = at;
                while (end < len && buf[end] >= '0' && buf[end] <= '9') end++;
                if (len - (end - at) + (size_t)w > cap) break;
                memmove(buf + at + w, buf + end, len - end);
                memcpy(buf + at, num, (size_t)w);
                *n = len - (end - at) + (size_t)w;
            }
            break;
        }
        case 3: { /* insert random bytes */
            size_t m = 1 + below(8), at = below(len + 1);
            if (len + m > cap) break;
            memmove(buf + at + m, buf + at, len - at);
            for (size_t i = 0; i < m; i++) buf[at + i] = (unsigned char)next();
            *n = len + m;
            break;
        }
        case 4: { /* delete a range */
            if (!len) break;
            size_t at = below(len), m = 1 + below(len - at < 16 ? len - at : 16);
            memmove(buf + at, buf + at + m, len - at - m);
            *n = len - m;
            break;
        }
        case 5: /* truncate */
            *n = below(len + 1);
            break;
        case 6: { /* splice: a chunk of another input over this one */
            const input *o = &corpus[below(n_corpus)];
            if (!o->size || !len) break;
            size_t from = below(o->size), at = below(len), m = 1 + below(64);
            if (m > o->size - from) m = o->size - from;
            if (at + m > cap) break;
            memcpy(buf + at, o->data + from, m);
            if (at + m > len) *n = at + m;
            break;
        }
        default: /* a byte set to a JSON or header delimiter */
            if (len) buf[below(len)] = (unsigned char)"{}[]\":,0\\\x00"[below(11)];
            break;
        }
    }
}

int main(int argc, char **argv) {
    double seconds = 10;
    uint64_t seed = 1;
    size_t max_len = 1 << 16;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "-seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "-max_len") && i + 1 < argc) max_len = strtoull(argv[++i], NULL, 10);
        else add_path(argv[i]);
    }
    if (getenv("LMR_FUZZ_SECONDS")) seconds = atof(getenv("LMR_FUZZ_SECONDS"));
    if (lmr_fuzz_seeds) lmr_fuzz_seeds(add);
    if (!n_corpus) add((const unsigned char *)"{}", 2);
    /* splitmix64 of the seed: every seed its own sequence, never the zero state */
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    rng = (z ^ (z >> 31)) | (z ? 0 : 1);

    cur_seed = seed;
    signal(SIGABRT, on_abort);
    for (size_t i = 0; i < n_corpus; i++) {
        cur_data = corpus[i].data, cur_size = corpus[i].size;
        LLVMFuzzerTestOneInput(corpus[i].data, corpus[i].size);
    }
    size_t cap = max_len;
    for (size_t i = 0; i < n_corpus; i++)
        if (corpus[i].size + 64 > cap) cap = corpus[i].size + 64;
    unsigned char *buf = malloc(cap);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint64_t cases = 0;
    for (;;) {
        if ((cases & 15) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec) >= seconds)
                break;
        }
        const input *in = &corpus[below(n_corpus)];
        size_t n = in->size;
        memcpy(buf, in->data, n);
        mutate(buf, &n, cap);
        cur_case = ++cases;
        cur_data = buf, cur_size = n;
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz driver: %zu seeds, %llu mutated cases in %.0f s (seed %llu), no crash\n", n_corpus,
           (unsigned long long)cases, seconds, (unsigned long long)seed);
    free(buf);
    for (size_t i = 0; i < n_corpus; i++) free(corpus[i].data);
    free(corpus);
    return 0;
}
