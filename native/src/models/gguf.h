/* gguf.h: open one GGUF file (versions 2 and 3; mmap'd read-only) and validate its header
 * (internal to models/). Layout (little-endian): "GGUF", u32 version, u64 n_tensors, u64 n_kv,
 * n_kv metadata entries (string key, u32 value type, value), n_tensors tensor infos (string name,
 * u32 n_dims, u64 ne[n_dims] with ne[0] the contiguous dimension, u32 ggml type, u64 offset),
 * padding to general.alignment (default 32), then the data; a tensor's offset is relative to
 * the data section and a multiple of the alignment. A string is a u64 length and its bytes. */
#ifndef LMR_GGUF_H
#define LMR_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "lmrig.h"

#define LMR_GGUF_MAX_DIMS 4       /* GGML_MAX_DIMS */
#define LMR_GGUF_MAX_NAME 64      /* GGML_MAX_NAME: tensor names are shorter than this */
#define LMR_GGUF_MAX_TENSORS 65536
#define LMR_GGUF_MAX_KV 65536
#define LMR_GGUF_MAX_KEY 65536    /* bytes of one metadata key */

/* Metadata value types (gguf_type). */
enum {
    LMR_GGUF_U8, LMR_GGUF_I8, LMR_GGUF_U16, LMR_GGUF_I16, LMR_GGUF_U32, LMR_GGUF_I32,
    LMR_GGUF_F32, LMR_GGUF_BOOL, LMR_GGUF_STRING, LMR_GGUF_ARRAY, LMR_GGUF_U64, LMR_GGUF_I64,
    LMR_GGUF_F64, LMR_GGUF_N_TYPES
};

typedef struct {
    const char *key;     /* in the map, not NUL-terminated */
    uint64_t key_len;
    uint32_t type;       /* LMR_GGUF_* */
    uint32_t arr_type;   /* element type of an array */
    uint64_t arr_n;      /* elements of an array; bytes of a string */
    const uint8_t *val;  /* the value (a string: its bytes; an array: its first element) */
} lmr_gguf_kv;

typedef struct {
    char name[LMR_GGUF_MAX_NAME]; /* NUL-terminated; a name with a NUL inside is refused */
    uint32_t type;       /* GGML_TYPE_* (any type ggml defines; the loader picks what it runs) */
    int32_t n_dims;
    uint64_t ne[LMR_GGUF_MAX_DIMS]; /* unused dims are 1 */
    uint64_t offset;     /* in the data section */
    uint64_t bytes;      /* from ne and the type's block size */
} lmr_gguf_tensor;

typedef struct {
    const char *label;   /* the file name used in messages (not owned) */
    const uint8_t *map;  /* whole file, PROT_READ, MAP_PRIVATE */
    uint64_t size;
    int fd;              /* the open file (-1 when closed or handed to the weights) */
    int64_t mtime_ns;
    uint32_t version;
    uint32_t alignment;
    uint64_t data_off;   /* file offset of the data section */
    lmr_gguf_kv *kv;
    uint64_t n_kv;
    lmr_gguf_tensor *tensors;
    uint64_t n_tensors;
} lmr_gguf_file;

/* ggml's name of a type ("q4_K"), or NULL when ggml defines no such type. */
const char *lmr_gguf_type_name(uint32_t type);
/* Elements per block and bytes per block of a ggml type; 0 when unknown. */
uint32_t lmr_gguf_block_elems(uint32_t type);
uint32_t lmr_gguf_block_bytes(uint32_t type);

/* mmap path and validate the header: magic, version 2 or 3, counts within the limits above,
 * every string and array inside the file, known value types, no duplicate keys or tensor names,
 * general.alignment a power of two, every tensor of a known type with ne[0] a multiple of its
 * block, its byte size free of overflow, its offset aligned, its data inside the file, and no
 * two tensors overlapping. label names the file in messages. On error nothing stays mapped. */
lmr_status lmr_gguf_open(const char *path, const char *label, lmr_gguf_file *f, char *err,
                         size_t errcap);
/* The same checks on a buffer already in memory (f->map = data, not unmapped by close). */
lmr_status lmr_gguf_parse(const uint8_t *data, uint64_t size, const char *label, lmr_gguf_file *f,
                          char *err, size_t errcap);
const lmr_gguf_kv *lmr_gguf_find_kv(const lmr_gguf_file *f, const char *key);
const lmr_gguf_tensor *lmr_gguf_find_tensor(const lmr_gguf_file *f, const char *name);
/* Typed reads of a metadata value: any integer type whose value fits (u32/i32/u64...), a float
 * (f32 or f64), a string. 1 on success, 0 when the type does not fit (or the value is out of
 * range for the integer). */
int lmr_gguf_kv_int(const lmr_gguf_kv *kv, int64_t *out);
int lmr_gguf_kv_float(const lmr_gguf_kv *kv, double *out);
int lmr_gguf_kv_string(const lmr_gguf_kv *kv, const char **s, uint64_t *len);
/* Free the tables; with unmap, also unmap the file and close its fd (if still held). */
void lmr_gguf_close(lmr_gguf_file *f, int unmap);

#endif /* LMR_GGUF_H */
