/* json_write.c: the writer half of json.h: builds compact JSON text in a growing buffer, with
 * commas placed automatically and strings escaped. Used to save config.json and safetensors
 * headers. A failed allocation sets `failed` and makes every later call a no-op. */
#include "json.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lmr_json_show(const char *s, size_t n, char *buf, size_t cap) {
    size_t k = 0;
    if (!cap) return buf;
    for (size_t i = 0; i < n && k + 4 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (k < n && cap >= 4) buf[k++] = '.', buf[k++] = '.', buf[k++] = '.';
    buf[k < cap ? k : cap - 1] = 0;
    return buf;
}

void lmr_jw_init(lmr_jw *w) {
    memset(w, 0, sizeof *w);
    w->first = 1;
}

void lmr_jw_free(lmr_jw *w) {
    free(w->buf);
    memset(w, 0, sizeof *w);
}

void lmr_jw_raw(lmr_jw *w, const char *s, size_t n) {
    if (w->failed) return;
    if (w->cap - w->len < n + 1) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap - w->len < n + 1) cap *= 2;
        char *b = realloc(w->buf, cap);
        if (!b) {
            w->failed = 1;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

/* Before any value or key: a comma unless it is the first member at this depth. Values that
 * follow a key are not members of their own (the key already placed the comma). */
static void sep(lmr_jw *w) {
    uint64_t bit = (uint64_t)1 << (w->depth & 63);
    if (w->first & bit) w->first &= ~bit;
    else lmr_jw_raw(w, ",", 1);
}

static void before_value(lmr_jw *w) {
    if (w->after_key) w->after_key = 0;
    else sep(w);
}

static void open_(lmr_jw *w, char c) {
    before_value(w);
    lmr_jw_raw(w, &c, 1);
    if (w->depth >= 63) {
        w->failed = 1; /* deeper than the comma bitmap tracks; never needed here */
        return;
    }
    w->depth++;
    w->first |= (uint64_t)1 << w->depth;
}

static void close_(lmr_jw *w, char c) {
    if (w->depth > 0) w->depth--;
    lmr_jw_raw(w, &c, 1);
}

void lmr_jw_begin_object(lmr_jw *w) { open_(w, '{'); }
void lmr_jw_end_object(lmr_jw *w) { close_(w, '}'); }
void lmr_jw_begin_array(lmr_jw *w) { open_(w, '['); }
void lmr_jw_end_array(lmr_jw *w) { close_(w, ']'); }

static void quoted(lmr_jw *w, const char *s) {
    lmr_jw_raw(w, "\"", 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char esc[8];
        if (*c == '"' || *c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*c;
            lmr_jw_raw(w, esc, 2);
        } else if (*c == '\n' || *c == '\t' || *c == '\r') {
            esc[0] = '\\';
            esc[1] = *c == '\n' ? 'n' : *c == '\t' ? 't' : 'r';
            lmr_jw_raw(w, esc, 2);
        } else if (*c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *c);
            lmr_jw_raw(w, esc, 6);
        } else {
            lmr_jw_raw(w, (const char *)c, 1);
        }
    }
    lmr_jw_raw(w, "\"", 1);
}

void lmr_jw_key(lmr_jw *w, const char *key) {
    sep(w);
    quoted(w, key);
    lmr_jw_raw(w, ":", 1);
    w->after_key = 1;
}

void lmr_jw_string(lmr_jw *w, const char *s) {
    before_value(w);
    quoted(w, s);
}

void lmr_jw_int(lmr_jw *w, int64_t v) {
    char b[32];
    before_value(w);
    lmr_jw_raw(w, b, (size_t)snprintf(b, sizeof b, "%lld", (long long)v));
}

void lmr_jw_double(lmr_jw *w, double v) {
    char b[40];
    before_value(w);
    if (v != v || v - v != 0) { /* NaN or infinite: JSON has no spelling for them */
        lmr_jw_raw(w, "null", 4);
        return;
    }
    char point = localeconv()->decimal_point[0];
    if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v) {
        snprintf(b, sizeof b, "%.1f", v); /* 1000000.0 as Python writes it, not 1e+06 */
    } else {
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(b, sizeof b, "%.*g", prec, v);
            if (strtod(b, NULL) == v) break;
        }
    }
    for (char *c = b; *c; c++)
        if (*c == point) *c = '.';
    if (!strpbrk(b, ".e")) strcat(b, ".0");
    lmr_jw_raw(w, b, strlen(b));
}

void lmr_jw_bool(lmr_jw *w, int v) {
    before_value(w);
    lmr_jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void lmr_jw_null(lmr_jw *w) {
    before_value(w);
    lmr_jw_raw(w, "null", 4);
}
