/* io_util.c: whole-file reads with a size cap, path joining, config.json from a path, and the
 * lookup/free half of lmr_weights (shared by loaded and synthesized weights). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "models/io_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

lmr_status lmr_read_file(const char *path, size_t max, char **buf, size_t *len, char *err,
                         size_t errcap) {
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block */
    if (fd < 0) {
        snprintf(err, errcap, "%s: cannot open: %s", path, strerror(errno));
        return LMR_ERR_IO;
    }
    struct stat sb;
    if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
        snprintf(err, errcap, "%s: not a regular file", path);
        close(fd);
        return LMR_ERR_IO;
    }
    if ((uint64_t)sb.st_size > max) {
        snprintf(err, errcap, "%s: file is %llu bytes, over the limit of %zu", path,
                 (unsigned long long)sb.st_size, max);
        close(fd);
        return LMR_ERR_FORMAT;
    }
    size_t n = (size_t)sb.st_size, got = 0;
    char *b = malloc(n + 1);
    if (!b) {
        snprintf(err, errcap, "%s: out of memory for %zu bytes", path, n);
        close(fd);
        return LMR_ERR_OUT_OF_MEMORY;
    }
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            snprintf(err, errcap, "%s: read failed after %zu of %zu bytes: %s", path, got, n,
                     r < 0 ? strerror(errno) : "file shrank");
            free(b);
            close(fd);
            return LMR_ERR_IO;
        }
        got += (size_t)r;
    }
    close(fd);
    b[n] = 0;
    *buf = b;
    *len = n;
    return LMR_OK;
}

void lmr_path_base(const char *path, char *buf, size_t cap) {
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/') end--;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/') start--;
    snprintf(buf, cap, "%.*s", (int)(end - start), path + start);
}

lmr_status lmr_path_join(const char *dir, const char *name, char *buf, size_t cap, char *err,
                         size_t errcap) {
    size_t n = strlen(dir);
    int slash = n > 0 && dir[n - 1] == '/';
    if ((size_t)snprintf(buf, cap, "%s%s%s", dir, slash ? "" : "/", name) >= cap) {
        snprintf(err, errcap, "%.100s...: path longer than %zu bytes", dir, cap - 1);
        return LMR_ERR_INVALID_ARG;
    }
    return LMR_OK;
}

lmr_status lmr_config_load_file(const char *path, lmr_config *cfg, char *err, size_t errcap) {
    char *text;
    size_t len;
    memset(cfg, 0, sizeof *cfg);
    lmr_status st = lmr_read_file(path, 16u << 20, &text, &len, err, errcap);
    if (st) return st;
    st = lmr_config_parse(text, len, path, cfg, err, errcap);
    free(text);
    if (st) return st;
    /* name: the folder holding config.json, or the file name when it has no folder part */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) *slash = 0;
    lmr_path_base(slash ? dir : path, cfg->name, sizeof cfg->name);
    return LMR_OK;
}

void lmr_weights_add_map(lmr_weights *w, void *map, uint64_t size) {
    w->maps[w->n_maps] = map;
    w->map_sizes[w->n_maps] = size;
    w->n_maps++;
}

const lmr_tensor *lmr_weights_find(const lmr_weights *w, const char *name) {
    for (int32_t i = 0; w && name && i < w->n_tensors; i++)
        if (!strcmp(w->tensors[i].name, name)) return &w->tensors[i];
    return NULL;
}

lmr_status lmr_weights_check_files(const lmr_weights *w, char *err, size_t errcap) {
    for (int32_t i = 0; i < w->n_files; i++) {
        struct stat sb;
        if (fstat(w->fds[i], &sb)) {
            snprintf(err, errcap, "%s: cannot check the weights file: %s", w->file_names[i],
                     strerror(errno));
            return LMR_ERR_IO;
        }
        int64_t mt = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
        if ((uint64_t)sb.st_size != w->file_sizes[i] || mt != w->file_mtimes_ns[i]) {
            snprintf(err, errcap,
                     "%s: the weights file changed after the model was loaded (%llu bytes, now "
                     "%llu%s); reading it could crash the process (SIGBUS): load the model again",
                     w->file_names[i], (unsigned long long)w->file_sizes[i],
                     (unsigned long long)sb.st_size,
                     mt != w->file_mtimes_ns[i] ? ", modified since" : "");
            return LMR_ERR_IO;
        }
    }
    return LMR_OK;
}

void lmr_weights_free(lmr_weights *w) {
    if (!w) return;
    for (int32_t i = 0; w->fds && i < w->n_files; i++)
        if (w->fds[i] >= 0) close(w->fds[i]);
    free(w->fds);
    free(w->file_sizes);
    free(w->file_mtimes_ns);
    free(w->file_names);
    for (int32_t i = 0; w->maps && i < w->n_maps; i++)
        if (w->maps[i]) munmap(w->maps[i], w->map_sizes[i]);
    free(w->maps);
    free(w->map_sizes);
    free(w->tensors);
    memset(w, 0, sizeof *w);
}
