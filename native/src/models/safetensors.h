/* safetensors.h: open one .safetensors file (mmap'd read-only) and validate its header
 * (internal to models/). Format: 8-byte little-endian header length N, N bytes of JSON
 * {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the
 * data; offsets are relative to the first byte after the header. */
#ifndef LMR_SAFETENSORS_H
#define LMR_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "lmrig.h"

#define LMR_ST_MAX_HEADER (100u * 1000u * 1000u) /* 100 MB, as the safetensors library */
#define LMR_ST_MAX_DIMS 8

typedef struct {
    const char *name;   /* in the header's JSON tree; may contain NUL (then name_len says) */
    uint32_t name_len;
    int32_t dtype;      /* LMR_DTYPE_F32/F16/BF16, or -1 for any other */
    const char *dtype_name; /* as written: "BF16", "I8", ... */
    int32_t n_dims;
    int64_t shape[LMR_ST_MAX_DIMS];
    uint64_t begin, end; /* byte range in the data section */
} lmr_st_entry;

typedef struct {
    const char *label;  /* the file name used in messages (not owned) */
    const uint8_t *map; /* whole file, PROT_READ, MAP_PRIVATE */
    uint64_t size;      /* file bytes */
    uint64_t data_off;  /* 8 + N */
    lmr_json_doc *doc;
    lmr_st_entry *entries; /* sorted by begin */
    const lmr_st_entry **by_name; /* entries sorted by name, for lmr_st_find */
    int32_t n;
    int fd;             /* the open file (-1 when closed or handed to the weights) */
    int64_t mtime_ns;   /* modification time at open */
} lmr_st_file;

/* mmap path and validate the header: length sane, JSON well formed, every tensor with a dtype
 * string, a shape of non-negative integers, offsets inside the data whose span equals
 * shape x element size (known dtypes), and no two tensors overlapping. label names the file in
 * messages. On error nothing stays mapped. */
lmr_status lmr_st_open(const char *path, const char *label, lmr_st_file *f, char *err,
                       size_t errcap);
/* Entry with exactly this name, or NULL. */
const lmr_st_entry *lmr_st_find(const lmr_st_file *f, const char *name);
/* Free the header tree; with unmap, also unmap the file and close its fd (if still held). */
void lmr_st_close(lmr_st_file *f, int unmap);

#endif /* LMR_SAFETENSORS_H */
