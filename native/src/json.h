/* json.h: a small strict JSON (RFC 8259) parser into a read-only tree, and a tiny writer.
 *
 * Used for config.json, safetensors headers and model.safetensors.index.json. The parser takes
 * the whole text, enforces limits on size, nesting depth and value count (so hostile input can
 * neither recurse deeply nor make it allocate much more than a small multiple of its size), and
 * reports the first error as one line "<where>:<line>:<column>: <what>". Strict means: UTF-8
 * only, no comments, no trailing commas, no leading zeros, no NaN/Infinity, no lone surrogates,
 * no duplicate keys in an object, nothing but whitespace after the value. */
#ifndef LMR_JSON_H
#define LMR_JSON_H

#include <stddef.h>
#include <stdint.h>

enum {
    LMR_JSON_NULL = 0,
    LMR_JSON_FALSE,
    LMR_JSON_TRUE,
    LMR_JSON_NUMBER,
    LMR_JSON_STRING,
    LMR_JSON_ARRAY,
    LMR_JSON_OBJECT,
};

/* One value, 32 bytes. Owned by its lmr_json_doc; valid until lmr_json_free. */
typedef struct lmr_json lmr_json;
struct lmr_json {
    uint8_t type;     /* LMR_JSON_* */
    uint8_t is_int;   /* number written without fraction/exponent that fits int64: u.i valid */
    uint16_t reserved;
    uint32_t n;       /* string: bytes (no NUL counted); array/object: members */
    uint32_t offset;  /* byte offset of the value in the source text (for lmr_json_pos) */
    uint32_t key_len; /* object members: bytes of key */
    const char *key;  /* object members: NUL-terminated key (may contain NUL via \u0000) */
    union {
        double num;         /* number when !is_int */
        int64_t i;          /* number when is_int */
        const char *str;    /* string, NUL-terminated */
        const lmr_json *items; /* array items / object members (key set), in source order */
    } u;
};

typedef struct {
    size_t max_bytes;  /* longest accepted text */
    int max_depth;     /* deepest nesting of arrays/objects */
    size_t max_values; /* most values in the document */
} lmr_json_limits;

/* 16 MiB, depth 64, 1M values: right for config.json and index files. */
lmr_json_limits lmr_json_limits_default(void);

typedef struct lmr_json_doc lmr_json_doc;

/* Parse text[len] (need not be NUL-terminated). On success *out owns the tree and the root is
 * lmr_json_root(*out); returns 0. On failure returns -1, *out = NULL and err gets
 * "<where>:<line>:<col>: <what>"; -2 when memory ran out (err says so). */
int lmr_json_parse(const char *text, size_t len, const lmr_json_limits *lim, const char *where,
                   lmr_json_doc **out, char *err, size_t errcap);
const lmr_json *lmr_json_root(const lmr_json_doc *d);
void lmr_json_free(lmr_json_doc *d); /* NULL is fine */

/* 1-based line and column (in bytes) of a byte offset of text. */
void lmr_json_pos(const char *text, size_t len, size_t offset, int *line, int *col);

/* Member of an object by key (exact bytes), or NULL (also when v is not an object). */
const lmr_json *lmr_json_get(const lmr_json *obj, const char *key);
/* Number as double (ints converted); 0 for non-numbers. */
double lmr_json_num(const lmr_json *v);
/* 1 and *out when v is a number with an integral value in int64 range, else 0. */
int lmr_json_int(const lmr_json *v, int64_t *out);
const char *lmr_json_type_name(int type); /* "null", "boolean", "number", ... */

/* Text from a document made safe to quote in a one-line message: control bytes and DEL become
 * '?', and it is cut to fit buf[cap] (with "..." when cut). Returns buf. */
const char *lmr_json_show(const char *s, size_t n, char *buf, size_t cap);

/* ---- writer: appends to a growing buffer; a failed allocation sticks in `failed` ---- */

typedef struct {
    char *buf;  /* owned; NUL-terminated when !failed */
    size_t len;
    size_t cap;
    int failed;
    int depth;
    int after_key;  /* a key was just written: the next value takes no comma */
    uint64_t first; /* bit d set: no member written yet at depth d */
} lmr_jw;

void lmr_jw_init(lmr_jw *w);
void lmr_jw_free(lmr_jw *w);
void lmr_jw_raw(lmr_jw *w, const char *s, size_t n); /* append bytes as they are */
void lmr_jw_begin_object(lmr_jw *w);
void lmr_jw_end_object(lmr_jw *w);
void lmr_jw_begin_array(lmr_jw *w);
void lmr_jw_end_array(lmr_jw *w);
void lmr_jw_key(lmr_jw *w, const char *key); /* inside an object, before its value */
void lmr_jw_string(lmr_jw *w, const char *s);
void lmr_jw_int(lmr_jw *w, int64_t v);
void lmr_jw_double(lmr_jw *w, double v); /* shortest round-trip form, always with '.' or 'e' */
void lmr_jw_bool(lmr_jw *w, int v);
void lmr_jw_null(lmr_jw *w);

#endif /* LMR_JSON_H */
