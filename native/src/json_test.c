/* json_test.c: the strict JSON parser (valid documents, every rejection with its line:column,
 * limits) and the writer (escaping, numbers, round trip through the parser). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <string.h>

#include "json.h"
#include "models/test_util.h"

static lmr_json_doc *parse(const char *text, char *err, size_t cap) {
    lmr_json_doc *d = NULL;
    lmr_json_parse(text, strlen(text), NULL, "t.json", &d, err, cap);
    return d;
}

/* The text must fail with a message containing `want` (position and reason). */
static void bad(const char *text, const char *want) {
    char err[256] = "";
    lmr_json_doc *d = parse(text, err, sizeof err);
    char shown[32];
    snprintf(shown, sizeof shown, "%s", text);
    for (char *c = shown; *c; c++)
        if ((unsigned char)*c < 0x20) *c = ' ';
    CHECK(!d && t_has(err, want), "reject %-24.24s -> %s", shown, err);
    lmr_json_free(d);
}

static void valid_cases(void) {
    char err[256] = "";
    lmr_json_doc *d = parse(" {\"a\": [1, -2.5e2, true, false, null, \"x\"], \"b\": {\"c\": {}} ,\"e\":[]}\n", err, sizeof err);
    const lmr_json *r = lmr_json_root(d), *a = lmr_json_get(r, "a");
    CHECK(d && r->type == LMR_JSON_OBJECT && r->n == 3, "object with 3 members: %s", err);
    CHECK(a && a->type == LMR_JSON_ARRAY && a->n == 6, "array of 6");
    CHECK(a && a->u.items[0].is_int && a->u.items[0].u.i == 1, "1 is an int");
    CHECK(a && !a->u.items[1].is_int && lmr_json_num(&a->u.items[1]) == -250.0, "-2.5e2 is -250.0");
    CHECK(a && a->u.items[2].type == LMR_JSON_TRUE && a->u.items[3].type == LMR_JSON_FALSE &&
              a->u.items[4].type == LMR_JSON_NULL, "true, false, null");
    CHECK(a && a->u.items[5].type == LMR_JSON_STRING && !strcmp(a->u.items[5].u.str, "x"), "string x");
    CHECK(lmr_json_get(lmr_json_get(r, "b"), "c")->type == LMR_JSON_OBJECT, "nested empty object");
    CHECK(!lmr_json_get(r, "missing") && !lmr_json_get(a, "a"), "get on missing key / non-object is NULL");
    lmr_json_free(d);

    d = parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00\\u0000z\"", err, sizeof err);
    r = lmr_json_root(d);
    CHECK(d && r->n == 19 && !memcmp(r->u.str, "\"\\/\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z", 19),
          "escapes incl. surrogate pair and \\u0000 decode to UTF-8 (%u bytes) %s", d ? r->n : 0, err);
    lmr_json_free(d);

    int64_t i;
    d = parse("[9223372036854775807, -9223372036854775808, 9223372036854775808, 0, -0, 1e2, 0.5, 1E-3]", err, sizeof err);
    r = lmr_json_root(d);
    CHECK(d && r->u.items[0].is_int && r->u.items[0].u.i == INT64_MAX, "INT64_MAX exact");
    CHECK(d && r->u.items[1].is_int && r->u.items[1].u.i == INT64_MIN, "INT64_MIN exact");
    CHECK(d && !r->u.items[2].is_int && lmr_json_num(&r->u.items[2]) == 9223372036854775808.0, "2^63 becomes a double");
    CHECK(d && !lmr_json_int(&r->u.items[2], &i), "2^63 is not an int64");
    CHECK(d && lmr_json_int(&r->u.items[5], &i) && i == 100, "1e2 is integral: 100");
    CHECK(d && !lmr_json_int(&r->u.items[6], &i), "0.5 is not integral");
    CHECK(d && lmr_json_num(&r->u.items[7]) == 0.001, "1E-3");
    lmr_json_free(d);

    d = parse("\xef\xbb\xbf[\"caf\xc3\xa9\"]", err, sizeof err);
    CHECK(d != NULL, "UTF-8 BOM and raw UTF-8 accepted: %s", err);
    lmr_json_free(d);
    d = parse("  42  ", err, sizeof err);
    CHECK(d && lmr_json_root(d)->u.i == 42, "scalar top level");
    lmr_json_free(d);
}

static void invalid_cases(void) {
    bad("", "1:1: invalid JSON: expected a value, found end of input");
    bad("{\"a\":1,}", "1:8: invalid JSON: expected a string key, found '}'");
    bad("[1,2", "1:5: invalid JSON: expected ',' or ']', found end of input");
    bad("[1,]", "1:4: invalid JSON: expected a value, found ']'");
    bad("{\"a\" 1}", "1:6: invalid JSON: expected ':' after key \"a\", found '1'");
    bad("{\n  \"a\": tru\n}", "2:8: invalid JSON: invalid literal (expected true)");
    bad("{\n\t\"a\": 1\n\t\"b\": 2}", "3:2: invalid JSON: expected ',' or '}', found '\"'");
    bad("01", "1:1: invalid JSON: invalid number (leading zero)");
    bad("-", "1:1: invalid JSON: invalid number");
    bad("1.", "1:1: invalid JSON: invalid number (a digit must follow '.')");
    bad("1e+", "1:1: invalid JSON: invalid number (a digit must follow the exponent)");
    bad(".5", "1:1: invalid JSON: expected a value, found '.'");
    bad("+1", "1:1: invalid JSON: expected a value, found '+'");
    bad("1e999", "1:1: invalid JSON: number 1e999 out of range");
    bad("NaN", "expected a value, found 'N'");
    bad("[Infinity]", "1:2: invalid JSON: expected a value, found 'I'");
    bad("'a'", "expected a value, found '''");
    bad("\"abc", "1:1: invalid JSON: unterminated string");
    bad("\"a\\x\"", "1:3: invalid JSON: invalid escape '\\x'");
    bad("\"\\u12g4\"", "1:2: invalid JSON: \\u must be followed by 4 hex digits");
    bad("\"\\ud800\"", "1:2: invalid JSON: high surrogate \\ud800 not followed by a low surrogate");
    bad("\"\\ud800\\u0041\"", "high surrogate \\ud800 not followed by a low surrogate");
    bad("\"\\udc00\"", "1:2: invalid JSON: lone low surrogate \\udc00");
    bad("\"a\tb\"", "1:3: invalid JSON: control character 0x09 in string");
    bad("\"\xff\"", "1:2: invalid JSON: invalid UTF-8 byte 0xff");
    bad("\"\xc0\x80\"", "invalid UTF-8 byte 0xc0");       /* overlong NUL */
    bad("\"\xed\xa0\x80\"", "invalid UTF-8 byte 0xed");   /* encoded surrogate */
    bad("\"\xe2\x82\"", "invalid UTF-8 byte 0xe2");       /* truncated sequence */
    bad("[1] x", "1:5: invalid JSON: unexpected 'x' after the value");
    bad("{} {}", "1:4: invalid JSON: unexpected '{' after the value");
    bad("[1 /* c */]", "1:4: invalid JSON: expected ',' or ']', found '/'");
    bad("{\"k\":1,\"k\":2}", "1:1: invalid JSON: duplicate key \"k\"");
    bad("nul", "invalid literal (expected null)");
    bad("{\"a\\nb\" 1}", "1:9: invalid JSON: expected ':' after key \"a?b\""); /* one line */
    bad("{\"k\\u0000\":1,\"k\\u0000\":2}", "duplicate key \"k?\"");
    bad("[\x01]", "found byte 0x01");
    char big[40];
    strcpy(big, "{\"a\":1,\"b\":2,\"c\":3,\"a\":4}");
    bad(big, "duplicate key \"a\"");

    /* duplicate detection via sorting (more than 16 members) */
    char many[512] = "{";
    for (int i = 0; i < 30; i++) snprintf(many + strlen(many), sizeof many - strlen(many), "\"k%d\":%d,", i % 29, i);
    many[strlen(many) - 1] = '}';
    bad(many, "duplicate key \"k0\"");
}

static void limits(void) {
    char err[256] = "";
    char deep[300];
    memset(deep, '[', 200);
    deep[200] = 0;
    bad(deep, "1:65: invalid JSON: nesting deeper than 64");
    lmr_json_limits lim = lmr_json_limits_default();
    lmr_json_doc *d = NULL;
    lim.max_bytes = 4;
    int rc = lmr_json_parse("[1,2]", 5, &lim, "x.json", &d, err, sizeof err);
    CHECK(rc == -1 && !d && t_has(err, "x.json: JSON text of 5 bytes is over the limit of 4 bytes"), "size limit: %s", err);
    lim = lmr_json_limits_default();
    lim.max_values = 3;
    rc = lmr_json_parse("[1,2,3]", 7, &lim, "x.json", &d, err, sizeof err);
    CHECK(rc == -1 && t_has(err, "x.json:1:6: invalid JSON: more than 3 values"), "value limit: %s", err);
    rc = lmr_json_parse("[1,2]", 5, &lim, "x.json", &d, err, sizeof err);
    CHECK(rc == 0 && d, "within the value limit");
    lmr_json_free(d);
    rc = lmr_json_parse("[1,2]x", 5, NULL, "x.json", &d, err, sizeof err);
    CHECK(rc == 0 && d, "only len bytes are read (no NUL needed)");
    lmr_json_free(d);
    lmr_json_free(NULL);
    int line, col;
    lmr_json_pos("ab\ncd\n", 6, 4, &line, &col);
    CHECK(line == 2 && col == 2, "lmr_json_pos: offset 4 is 2:2");
}

static void writer(void) {
    lmr_jw w;
    lmr_jw_init(&w);
    lmr_jw_begin_object(&w);
    lmr_jw_key(&w, "s");
    lmr_jw_string(&w, "q\"b\\n\n\x01");
    lmr_jw_key(&w, "a");
    lmr_jw_begin_array(&w);
    lmr_jw_int(&w, -5);
    lmr_jw_double(&w, 1e6);
    lmr_jw_double(&w, 1e-6);
    lmr_jw_double(&w, 0.1);
    lmr_jw_double(&w, NAN);
    lmr_jw_bool(&w, 1);
    lmr_jw_null(&w);
    lmr_jw_begin_object(&w);
    lmr_jw_end_object(&w);
    lmr_jw_end_array(&w);
    lmr_jw_key(&w, "e");
    lmr_jw_begin_array(&w);
    lmr_jw_end_array(&w);
    lmr_jw_end_object(&w);
    const char *want = "{\"s\":\"q\\\"b\\\\n\\n\\u0001\",\"a\":[-5,1000000.0,1e-06,0.1,null,true,null,{}],\"e\":[]}";
    CHECK(!w.failed && !strcmp(w.buf, want), "writer output %s", w.buf);
    char err[256] = "";
    lmr_json_doc *d = NULL;
    int rc = lmr_json_parse(w.buf, w.len, NULL, "w", &d, err, sizeof err);
    const lmr_json *a = rc ? NULL : lmr_json_get(lmr_json_root(d), "a");
    CHECK(a && lmr_json_num(&a->u.items[2]) == 1e-6 && lmr_json_num(&a->u.items[3]) == 0.1,
          "writer output parses back with exact doubles %s", err);
    CHECK(d && !strcmp(lmr_json_get(lmr_json_root(d), "s")->u.str, "q\"b\\n\n\x01"), "string round trip");
    lmr_json_free(d);
    lmr_jw_free(&w);
}

int main(void) {
    valid_cases();
    invalid_cases();
    limits();
    writer();
    return t_done();
}
