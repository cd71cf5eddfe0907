/* json.c: strict RFC 8259 JSON parser into an arena-allocated tree, and a small writer.
 *
 * Memory: values live in an arena owned by the document; an array's or object's members are
 * built on one shared stack and copied into the arena when it closes, so the whole parse costs
 * at most about 2 * 32 bytes per value plus the decoded strings (never more than the input).
 * The writer half of json.h is in json_write.c. */
#include "json.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct block {
    struct block *next;
    size_t used, cap;
    _Alignas(8) char data[];
} block;

struct lmr_json_doc {
    block *blocks;
    lmr_json root;
};

typedef struct {
    const unsigned char *s;
    size_t len, pos;
    lmr_json_limits lim;
    const char *where;
    char *err;
    size_t errcap;
    int failed; /* -1 syntax, -2 out of memory */
    lmr_json_doc *doc;
    lmr_json *stack; /* members of the open arrays/objects */
    size_t stack_n, stack_cap;
    size_t n_values;
    int depth;
} parser;

lmr_json_limits lmr_json_limits_default(void) {
    lmr_json_limits l = {16u << 20, 64, 1u << 20};
    return l;
}

void lmr_json_pos(const char *text, size_t len, size_t offset, int *line, int *col) {
    int l = 1, c = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static void fail_at(parser *p, size_t offset, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = -1;
    int line, col;
    lmr_json_pos((const char *)p->s, p->len, offset, &line, &col);
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->errcap) snprintf(p->err, p->errcap, "%s:%d:%d: invalid JSON: %s", p->where, line, col, msg);
}

static void fail_oom(parser *p) {
    if (p->failed) return;
    p->failed = -2;
    if (p->errcap) snprintf(p->err, p->errcap, "%s: out of memory while parsing JSON", p->where);
}

/* Describe the byte at pos for "unexpected ..." messages. */
static const char *found(parser *p, char *buf, size_t cap) {
    if (p->pos >= p->len) return "end of input";
    unsigned char c = p->s[p->pos];
    if (c >= 0x20 && c < 0x7f) snprintf(buf, cap, "'%c'", c);
    else snprintf(buf, cap, "byte 0x%02x", c);
    return buf;
}

static void *arena_alloc(parser *p, size_t n) {
    n = (n + 7) & ~(size_t)7;
    block *b = p->doc->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        b = malloc(sizeof(block) + cap);
        if (!b) {
            fail_oom(p);
            return NULL;
        }
        b->next = p->doc->blocks;
        b->used = 0;
        b->cap = cap;
        p->doc->blocks = b;
    }
    void *r = b->data + b->used;
    b->used += n;
    return r;
}

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        p->pos++;
    }
}

static int push(parser *p, const lmr_json *v) {
    if (p->stack_n == p->stack_cap) {
        size_t cap = p->stack_cap ? p->stack_cap * 2 : 64;
        lmr_json *s = realloc(p->stack, cap * sizeof *s);
        if (!s) {
            fail_oom(p);
            return -1;
        }
        p->stack = s;
        p->stack_cap = cap;
    }
    p->stack[p->stack_n++] = *v;
    return 0;
}

static int hex4(const unsigned char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

/* Length of the well-formed UTF-8 sequence at s[0..avail), or 0. */
static size_t utf8_len(const unsigned char *s, size_t avail) {
    unsigned c = s[0];
    size_t n;
    unsigned cp, min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (avail < n) return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

static size_t put_utf8(unsigned char *d, unsigned cp) {
    if (cp < 0x80) {
        d[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (unsigned char)(0xc0 | (cp >> 6));
        d[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (unsigned char)(0xe0 | (cp >> 12));
        d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (unsigned char)(0xf0 | (cp >> 18));
    d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* p->pos is at the opening quote. Decodes into the arena: escapes never make text longer. */
static int parse_string(parser *p, const char **out, uint32_t *out_len) {
    size_t start = ++p->pos, end = start;
    while (end < p->len && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len) {
        fail_at(p, start - 1, "unterminated string");
        return -1;
    }
    unsigned char *d = arena_alloc(p, end - start + 1);
    if (!d) return -1;
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = p->s[p->pos];
        if (c < 0x20) {
            fail_at(p, p->pos, "control character 0x%02x in string (must be escaped)", c);
            return -1;
        }
        if (c != '\\') {
            size_t k = utf8_len(p->s + p->pos, end - p->pos);
            if (!k) {
                fail_at(p, p->pos, "invalid UTF-8 byte 0x%02x in string", c);
                return -1;
            }
            memcpy(d + n, p->s + p->pos, k);
            n += k;
            p->pos += k;
            continue;
        }
        unsigned char e = p->s[p->pos + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            d[n++] = (unsigned char)map[simple - "\"\\/bfnrt"];
            p->pos += 2;
            continue;
        }
        if (e != 'u') {
            fail_at(p, p->pos, "invalid escape '\\%c' in string", e >= 0x20 && e < 0x7f ? e : '?');
            return -1;
        }
        unsigned cp, lo;
        if (end - p->pos < 6 || hex4(p->s + p->pos + 2, &cp)) {
            fail_at(p, p->pos, "\\u must be followed by 4 hex digits");
            return -1;
        }
        size_t esc = p->pos;
        p->pos += 6;
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            fail_at(p, esc, "lone low surrogate \\u%04x in string", cp);
            return -1;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (end - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                hex4(p->s + p->pos + 2, &lo) || lo < 0xdc00 || lo > 0xdfff) {
                fail_at(p, esc, "high surrogate \\u%04x not followed by a low surrogate", cp);
                return -1;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            p->pos += 6;
        }
        n += put_utf8(d + n, cp);
    }
    d[n] = 0;
    p->pos = end + 1;
    if (n > UINT32_MAX) {
        fail_at(p, start - 1, "string too long");
        return -1;
    }
    *out = (const char *)d;
    *out_len = (uint32_t)n;
    return 0;
}

static int parse_number(parser *p, lmr_json *v) {
    size_t start = p->pos;
    const unsigned char *s = p->s;
    int neg = 0, is_int = 1;
    if (p->pos < p->len && s[p->pos] == '-') neg = 1, p->pos++;
    if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') {
        fail_at(p, start, "invalid number (a digit must follow '-')");
        return -1;
    }
    if (s[p->pos] == '0') {
        p->pos++;
        if (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') {
            fail_at(p, start, "invalid number (leading zero)");
            return -1;
        }
    } else {
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    size_t int_end = p->pos;
    if (p->pos < p->len && s[p->pos] == '.') {
        is_int = 0;
        p->pos++;
        if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') {
            fail_at(p, start, "invalid number (a digit must follow '.')");
            return -1;
        }
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        is_int = 0;
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-')) p->pos++;
        if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') {
            fail_at(p, start, "invalid number (a digit must follow the exponent)");
            return -1;
        }
        while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9') p->pos++;
    }
    v->type = LMR_JSON_NUMBER;
    if (is_int) {
        uint64_t m = 0, limit = neg ? (uint64_t)1 << 63 : ((uint64_t)1 << 63) - 1;
        size_t i = start + neg;
        for (; i < int_end; i++) {
            unsigned d = s[i] - '0';
            if (m > (limit - d) / 10) break;
            m = m * 10 + d;
        }
        if (i == int_end) {
            v->is_int = 1;
            v->u.i = neg ? (int64_t)(0 - m) : (int64_t)m;
            return 0;
        }
    }
    size_t n = p->pos - start;
    char buf[128];
    if (n >= sizeof buf) {
        fail_at(p, start, "number too long (%zu characters)", n);
        return -1;
    }
    memcpy(buf, s + start, n);
    buf[n] = 0;
    char *dot = strchr(buf, '.'), point = localeconv()->decimal_point[0];
    if (dot && point) *dot = point; /* strtod follows the C locale of the process */
    double d = strtod(buf, NULL);
    if (!isfinite(d)) {
        fail_at(p, start, "number %s out of range", buf);
        return -1;
    }
    v->is_int = 0;
    v->u.num = d;
    return 0;
}

static int key_cmp(const void *a, const void *b) {
    const lmr_json *x = *(const lmr_json *const *)a, *y = *(const lmr_json *const *)b;
    uint32_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

static int check_duplicates(parser *p, const lmr_json *m, uint32_t n, size_t at) {
    const lmr_json *dup = NULL;
    if (n <= 16) {
        for (uint32_t i = 0; i < n && !dup; i++)
            for (uint32_t j = i + 1; j < n && !dup; j++)
                if (m[i].key_len == m[j].key_len && !memcmp(m[i].key, m[j].key, m[i].key_len))
                    dup = &m[j];
    } else {
        const lmr_json **idx = malloc(n * sizeof *idx);
        if (!idx) {
            fail_oom(p);
            return -1;
        }
        for (uint32_t i = 0; i < n; i++) idx[i] = &m[i];
        qsort(idx, n, sizeof *idx, key_cmp);
        for (uint32_t i = 1; i < n && !dup; i++)
            if (!key_cmp(&idx[i - 1], &idx[i])) dup = idx[i];
        free(idx);
    }
    if (dup) {
        char kb[84];
        fail_at(p, at, "duplicate key \"%s\" in object", lmr_json_show(dup->key, dup->key_len, kb, sizeof kb));
        return -1;
    }
    return 0;
}

static int parse_value(parser *p, lmr_json *v);

/* Arrays and objects: members go on the stack, then into the arena when the container closes. */
static int parse_container(parser *p, lmr_json *v) {
    size_t open = p->pos;
    int is_obj = p->s[p->pos] == '{';
    char close = is_obj ? '}' : ']', fb[16];
    if (++p->depth > p->lim.max_depth) {
        fail_at(p, open, "nesting deeper than %d", p->lim.max_depth);
        return -1;
    }
    p->pos++;
    size_t base = p->stack_n;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
    } else {
        for (;;) {
            lmr_json m;
            memset(&m, 0, sizeof m);
            if (is_obj) {
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != '"') {
                    fail_at(p, p->pos, "expected a string key, found %s", found(p, fb, sizeof fb));
                    return -1;
                }
                if (parse_string(p, &m.key, &m.key_len)) return -1;
                skip_ws(p);
                if (p->pos >= p->len || p->s[p->pos] != ':') {
                    char kb[64];
                    fail_at(p, p->pos, "expected ':' after key \"%s\", found %s",
                            lmr_json_show(m.key, m.key_len, kb, sizeof kb), found(p, fb, sizeof fb));
                    return -1;
                }
                p->pos++;
            }
            if (parse_value(p, &m) || push(p, &m)) return -1;
            skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == ',') {
                p->pos++;
                continue;
            }
            if (p->pos < p->len && p->s[p->pos] == close) {
                p->pos++;
                break;
            }
            fail_at(p, p->pos, "expected ',' or '%c', found %s", close, found(p, fb, sizeof fb));
            return -1;
        }
    }
    size_t n = p->stack_n - base;
    v->type = is_obj ? LMR_JSON_OBJECT : LMR_JSON_ARRAY;
    v->n = (uint32_t)n;
    if (n) {
        lmr_json *items = arena_alloc(p, n * sizeof *items);
        if (!items) return -1;
        memcpy(items, p->stack + base, n * sizeof *items);
        v->u.items = items;
        if (is_obj && check_duplicates(p, items, (uint32_t)n, open)) return -1;
    }
    p->stack_n = base;
    p->depth--;
    return 0;
}

static int parse_value(parser *p, lmr_json *v) {
    char fb[16];
    skip_ws(p);
    if (++p->n_values > p->lim.max_values) {
        fail_at(p, p->pos, "more than %zu values", p->lim.max_values);
        return -1;
    }
    v->offset = (uint32_t)p->pos;
    if (p->pos >= p->len) {
        fail_at(p, p->pos, "expected a value, found end of input");
        return -1;
    }
    unsigned char c = p->s[p->pos];
    static const struct { const char *word; uint8_t type; } words[] = {
        {"null", LMR_JSON_NULL}, {"true", LMR_JSON_TRUE}, {"false", LMR_JSON_FALSE}};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i].word);
        if (c == (unsigned char)words[i].word[0]) {
            if (p->len - p->pos < n || memcmp(p->s + p->pos, words[i].word, n)) {
                fail_at(p, p->pos, "invalid literal (expected %s)", words[i].word);
                return -1;
            }
            v->type = words[i].type;
            p->pos += n;
            return 0;
        }
    }
    if (c == '"') {
        v->type = LMR_JSON_STRING;
        return parse_string(p, &v->u.str, &v->n);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
    if (c == '{' || c == '[') return parse_container(p, v);
    fail_at(p, p->pos, "expected a value, found %s", found(p, fb, sizeof fb));
    return -1;
}

int lmr_json_parse(const char *text, size_t len, const lmr_json_limits *lim, const char *where,
                   lmr_json_doc **out, char *err, size_t errcap) {
    parser p;
    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)text;
    p.len = len;
    p.lim = lim ? *lim : lmr_json_limits_default();
    if (p.lim.max_bytes > UINT32_MAX) p.lim.max_bytes = UINT32_MAX; /* offsets are 32-bit */
    p.where = where ? where : "JSON";
    p.err = err;
    p.errcap = err ? errcap : 0;
    *out = NULL;
    if (len > p.lim.max_bytes) {
        if (p.errcap)
            snprintf(err, errcap, "%s: JSON text of %zu bytes is over the limit of %zu bytes",
                     p.where, len, p.lim.max_bytes);
        return -1;
    }
    p.doc = calloc(1, sizeof *p.doc);
    if (!p.doc) {
        fail_oom(&p);
        return -2;
    }
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) p.pos = 3; /* tolerate a UTF-8 BOM */
    if (!parse_value(&p, &p.doc->root)) {
        skip_ws(&p);
        if (p.pos < p.len) {
            char fb[16];
            fail_at(&p, p.pos, "unexpected %s after the value", found(&p, fb, sizeof fb));
        }
    }
    free(p.stack);
    if (p.failed) {
        lmr_json_free(p.doc);
        return p.failed;
    }
    *out = p.doc;
    return 0;
}

const lmr_json *lmr_json_root(const lmr_json_doc *d) { return d ? &d->root : NULL; }

void lmr_json_free(lmr_json_doc *d) {
    if (!d) return;
    for (block *b = d->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(d);
}

const lmr_json *lmr_json_get(const lmr_json *obj, const char *key) {
    if (!obj || obj->type != LMR_JSON_OBJECT) return NULL;
    size_t n = strlen(key);
    for (uint32_t i = 0; i < obj->n; i++) {
        const lmr_json *m = &obj->u.items[i];
        if (m->key_len == n && !memcmp(m->key, key, n)) return m;
    }
    return NULL;
}

double lmr_json_num(const lmr_json *v) {
    if (!v || v->type != LMR_JSON_NUMBER) return 0;
    return v->is_int ? (double)v->u.i : v->u.num;
}

int lmr_json_int(const lmr_json *v, int64_t *out) {
    if (!v || v->type != LMR_JSON_NUMBER) return 0;
    if (v->is_int) {
        *out = v->u.i;
        return 1;
    }
    double d = v->u.num;
    if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) return 0;
    *out = (int64_t)d;
    return 1;
}

const char *lmr_json_type_name(int type) {
    static const char *names[] = {"null", "boolean", "boolean", "number", "string", "array",
                                  "object"};
    return type >= 0 && type <= LMR_JSON_OBJECT ? names[type] : "?";
}
