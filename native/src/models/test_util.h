/* test_util.h: tiny helpers for the models/ and json tests (header-only; each *_test.c is its own
 * program): CHECK lines, temp folders, file read/write, and rewriting a safetensors header. */
#ifndef LMR_MODELS_TEST_UTIL_H
#define LMR_MODELS_TEST_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int t_pass, t_fail;

#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"
#endif

#define CHECK(cond, ...) \
    do { \
        int ok_ = (cond) ? 1 : 0; \
        printf(ok_ ? "ok   " : "FAIL "); \
        printf(__VA_ARGS__); \
        printf(ok_ ? "\n" : "  (%s:%d)\n", __FILE__, __LINE__); \
        fflush(stdout); \
        if (ok_) t_pass++; \
        else t_fail++; \
    } while (0)

static int t_done(void) {
    printf("%d passed, %d failed\n", t_pass, t_fail);
    return t_fail ? 1 : 0;
}

static int t_has(const char *s, const char *needle) { return s && strstr(s, needle) != NULL; }

/* A fresh folder /tmp/lmr-<tag>-XXXXXX (static buffer per call site is the caller's job). */
static void t_tmpdir(const char *tag, char *buf, size_t cap) {
    snprintf(buf, cap, "/tmp/lmr-%s-XXXXXX", tag);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        exit(2);
    }
}

/* Remove a folder and the files directly in it. */
static void t_rmdir(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4096];
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
    rmdir(dir);
}

static void t_write(const char *dir, const char *name, const void *data, size_t n) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        perror(p);
        exit(2);
    }
    fclose(f);
}

static void t_write_str(const char *dir, const char *name, const char *s) { t_write(dir, name, s, strlen(s)); }

/* Whole file into a malloc'd buffer (NUL-terminated); exits on failure. */
static char *t_read(const char *dir, const char *name, size_t *n) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "rb");
    if (!f) {
        perror(p);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    if (!b || fread(b, 1, (size_t)len, f) != (size_t)len) exit(2);
    fclose(f);
    b[len] = 0;
    *n = (size_t)len;
    return b;
}

static void t_copy(const char *from_dir, const char *to_dir, const char *name) {
    size_t n;
    char *b = t_read(from_dir, name, &n);
    t_write(to_dir, name, b, n);
    free(b);
}

/* Replace the first `from` in a safetensors file's header JSON with `to`, fix the length field
 * (no padding) and write the result as dir/name. Exits if `from` is not in the header. */
static void t_st_edit(const char *src_dir, const char *dir, const char *name, const char *from,
                      const char *to) {
    size_t n;
    char *b = t_read(src_dir, name, &n);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | (uint8_t)b[i];
    char *h = malloc(hlen + 1);
    memcpy(h, b + 8, hlen);
    h[hlen] = 0;
    char *at = strstr(h, from);
    if (!at) {
        fprintf(stderr, "t_st_edit: \"%s\" not in header\n", from);
        exit(2);
    }
    size_t nh = hlen - strlen(from) + strlen(to), k = 0;
    char *out = malloc(8 + nh + (n - 8 - hlen));
    for (int i = 0; i < 8; i++) out[i] = (char)(nh >> (8 * i));
    memcpy(out + 8, h, (size_t)(at - h));
    k = 8 + (size_t)(at - h);
    memcpy(out + k, to, strlen(to));
    k += strlen(to);
    memcpy(out + k, at + strlen(from), hlen - (size_t)(at - h) - strlen(from));
    k += hlen - (size_t)(at - h) - strlen(from);
    memcpy(out + k, b + 8 + hlen, n - 8 - hlen);
    k += n - 8 - hlen;
    t_write(dir, name, out, k);
    free(out);
    free(h);
    free(b);
}

#endif /* LMR_MODELS_TEST_UTIL_H */
