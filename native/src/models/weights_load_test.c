/* weights_load_test.c: lmr_weights_load on good folders (single file, two shards, odd header
 * length, ignored extra tensors) and on every kind of broken one: each must fail with the right
 * status and a message naming the file and the field or tensor. Fixtures are written from a
 * synthesized tiny model into /tmp. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "models/model_io.h"
#include "models/test_util.h"

static char base[256]; /* a valid saved tiny-llama folder */
static lmr_weights ref;

static void expect(const char *dir, lmr_status want, const char *msg, const char *what) {
    char err[1024] = "";
    lmr_weights w;
    lmr_status st = lmr_weights_load(dir, &w, err, sizeof err);
    CHECK(st == want && t_has(err, msg) && !strchr(err, '\n'), "%s -> [%d] %s", what, st, err);
    if (!st) lmr_weights_free(&w);
}

/* A fresh folder with base's config.json and base's model.safetensors edited (from -> to). */
static void case_dir(char *dir, size_t cap, const char *from, const char *to) {
    t_tmpdir("load", dir, cap);
    t_copy(base, dir, "config.json");
    if (from) t_st_edit(base, dir, "model.safetensors", from, to);
    else t_copy(base, dir, "model.safetensors");
}

/* The data_offsets text the saver wrote for tensor i ("[b,e]"). */
static void offsets_of(int32_t i, char *buf, size_t cap) {
    uint64_t b = 0;
    for (int32_t k = 0; k < i; k++) b += ref.tensors[k].bytes;
    snprintf(buf, cap, "\"data_offsets\":[%llu,%llu]", (unsigned long long)b,
             (unsigned long long)(b + ref.tensors[i].bytes));
}

static void header_cases(void) {
    char dir[256], from[128], to[128];
    size_t n;
    char *file = t_read(base, "model.safetensors", &n);

    t_tmpdir("load", dir, sizeof dir);
    t_copy(base, dir, "config.json");
    t_write(dir, "model.safetensors", file, 5);
    expect(dir, LMR_ERR_FORMAT, "model.safetensors: file is 5 bytes, too short for the 8-byte header length", "5-byte file");
    t_write(dir, "model.safetensors", file, n - 100);
    expect(dir, LMR_ERR_FORMAT, "lies past the end of the data section", "file truncated in the data");
    t_write(dir, "model.safetensors", file, 8 + 100);
    expect(dir, LMR_ERR_FORMAT, "model.safetensors: header length 2152 runs past the end of the file (108 bytes)",
           "file truncated in the header");
    char *copy = malloc(n);
    memcpy(copy, file, n);
    memset(copy, 0, 8);
    copy[5] = 1; /* 2^40 */
    t_write(dir, "model.safetensors", copy, n);
    expect(dir, LMR_ERR_FORMAT, "header length 1099511627776 is over the limit of 100000000 bytes", "huge header length");
    memset(copy, 0, 8);
    copy[0] = (char)((n - 7) & 0xff), copy[1] = (char)(((n - 7) >> 8) & 0xff), copy[2] = (char)((n - 7) >> 16);
    t_write(dir, "model.safetensors", copy, n);
    expect(dir, LMR_ERR_FORMAT, "runs past the end of the file", "header length past EOF");
    memset(copy, 0, 8);
    copy[0] = 1;
    t_write(dir, "model.safetensors", copy, n);
    expect(dir, LMR_ERR_FORMAT, "header length 1 is too small", "header length 1");
    memcpy(copy, file, n);
    copy[8] = '[';
    t_write(dir, "model.safetensors", copy, n);
    expect(dir, LMR_ERR_FORMAT, "model.safetensors header:1:", "header starts with [ (bad JSON)");
    free(copy);
    free(file);
    t_rmdir(dir);

    case_dir(dir, sizeof dir, "\"dtype\":\"BF16\"", "\"dtype\":\"BF16\",");
    expect(dir, LMR_ERR_FORMAT, "model.safetensors header:1:", "trailing comma in the header JSON");
    t_rmdir(dir);
    t_tmpdir("load", dir, sizeof dir);
    t_copy(base, dir, "config.json");
    t_write(dir, "model.safetensors", "\x08\0\0\0\0\0\0\0[1, 2]  ", 16);
    expect(dir, LMR_ERR_FORMAT, "the header is a JSON array, not an object", "header is an array");
    t_rmdir(dir);
    case_dir(dir, sizeof dir, "{\"format\":\"pt\"}", "7");
    expect(dir, LMR_ERR_FORMAT, "\"__metadata__\" must be an object", "__metadata__ not an object");
    t_rmdir(dir);

    int32_t last = ref.n_tensors - 1; /* lm_head.weight, [512, 64] */
    offsets_of(last, from, sizeof from);
    snprintf(to, sizeof to, "\"data_offsets\":[%llu,%llu]", 10000000ull, 10000000ull + ref.tensors[last].bytes);
    case_dir(dir, sizeof dir, from, to);
    expect(dir, LMR_ERR_FORMAT, "tensor \"lm_head.weight\" data [512, 64] at [10000000, 10065536] lies past the end", "offsets past the end");
    t_rmdir(dir);
    snprintf(to, sizeof to, "\"data_offsets\":[5,4]");
    case_dir(dir, sizeof dir, from, to);
    expect(dir, LMR_ERR_FORMAT, "tensor \"lm_head.weight\" has data_offsets [5, 4] with begin after end", "begin > end");
    t_rmdir(dir);
    snprintf(to, sizeof to, "\"data_offsets\":[-2,4]");
    case_dir(dir, sizeof dir, from, to);
    expect(dir, LMR_ERR_FORMAT, "data_offsets that are not non-negative integers", "negative offset");
    t_rmdir(dir);
    snprintf(to, sizeof to, "\"data_offsets\":[0]");
    case_dir(dir, sizeof dir, from, to);
    expect(dir, LMR_ERR_FORMAT, "has no \"data_offsets\" [begin, end] array", "one offset");
    t_rmdir(dir);

    /* model.norm.weight [64] BF16 moved onto the embedding's first 128 bytes */
    offsets_of(last - 1, from, sizeof from);
    case_dir(dir, sizeof dir, from, "\"data_offsets\":[64,192]");
    expect(dir, LMR_ERR_FORMAT, "tensors \"model.embed_tokens.weight\" [0, 65536] and \"model.norm.weight\" [64, 192] overlap",
           "overlapping tensors");
    t_rmdir(dir);
    case_dir(dir, sizeof dir, "\"model.norm.weight\":{\"dtype\":\"BF16\",\"shape\":[64]", "\"model.norm.weight\":{\"dtype\":\"BF16\",\"shape\":[65]");
    expect(dir, LMR_ERR_FORMAT, "tensor \"model.norm.weight\" shape [65] of BF16 needs 130 bytes but data_offsets", "shape does not match the span");
    t_rmdir(dir);
    case_dir(dir, sizeof dir, "\"model.norm.weight\":{\"dtype\":\"BF16\",\"shape\":[64]", "\"model.norm.weight\":{\"dtype\":\"BF16\",\"shape\":[32,2]");
    expect(dir, LMR_ERR_FORMAT, "model.safetensors: tensor \"model.norm.weight\" has shape [32, 2] but config.json implies [64]", "wrong shape");
    t_rmdir(dir);
    case_dir(dir, sizeof dir, "\"model.norm.weight\":{\"dtype\":\"BF16\",\"shape\":[64]", "\"model.norm.weight\":{\"dtype\":\"BF16\",\"shape\":[-64]");
    expect(dir, LMR_ERR_FORMAT, "has a shape entry that is not a non-negative integer", "negative dimension");
    t_rmdir(dir);
    case_dir(dir, sizeof dir, "\"model.norm.weight\":{\"dtype\":\"BF16\"", "\"model.norm.weight\":{\"dtype\":\"I16\"");
    expect(dir, LMR_ERR_UNSUPPORTED, "tensor \"model.norm.weight\" has dtype I16, which is unsupported", "dtype I16");
    t_rmdir(dir);
    case_dir(dir, sizeof dir, "\"model.norm.weight\":{\"dtype\":\"BF16\"", "\"model.norm.weight\":{\"dtype\":\"F32\"");
    expect(dir, LMR_ERR_FORMAT, "shape [64] of F32 needs 256 bytes but data_offsets", "dtype F32 with BF16-sized data");
    t_rmdir(dir);
    case_dir(dir, sizeof dir, "\"model.norm.weight\":{\"dtype\":\"BF16\"", "\"model.norm.weight\":{\"dtype\":\"Q4_K\"");
    expect(dir, LMR_ERR_UNSUPPORTED, "has dtype Q4_K, which is unsupported", "unknown dtype");
    t_rmdir(dir);
    case_dir(dir, sizeof dir, "\"model.norm.weight\":{\"dtype\":\"BF16\"", "\"model.norm.weight\":{\"dtype\":7");
    expect(dir, LMR_ERR_FORMAT, "tensor \"model.norm.weight\" has no \"dtype\" string", "dtype not a string");
    t_rmdir(dir);
    case_dir(dir, sizeof dir, "\"model.norm.weight\"", "\"model.norm.weighx\"");
    expect(dir, LMR_ERR_FORMAT, "tensor \"model.norm.weight\" [64] (implied by config.json) is missing from model.safetensors",
           "missing tensor");
    t_rmdir(dir);
    case_dir(dir, sizeof dir, "\"model.norm.weight\"", "\"model.layers.0.input_layernorm.weight\"");
    expect(dir, LMR_ERR_FORMAT, "duplicate key \"model.layers.0.input_layernorm.weight\"", "duplicate tensor name");
    t_rmdir(dir);
    case_dir(dir, sizeof dir, "\"model.norm.weight\"", "\"model.norm.weight\\u0000\"");
    expect(dir, LMR_ERR_FORMAT, "\"model.norm.weight\" [64] (implied by config.json) is missing", "name with NUL does not match");
    t_rmdir(dir);

    /* one extra space in the header: every tensor lands on an odd address and gets copied */
    case_dir(dir, sizeof dir, "{\"__metadata__\"", " {\"__metadata__\"");
    char err[512] = "";
    lmr_weights w;
    lmr_status st = lmr_weights_load(dir, &w, err, sizeof err);
    int same = st == LMR_OK && w.n_tensors == ref.n_tensors;
    for (int32_t i = 0; same && i < w.n_tensors; i++)
        same = (uintptr_t)w.tensors[i].data % 2 == 0 && !memcmp(w.tensors[i].data, ref.tensors[i].data, ref.tensors[i].bytes);
    CHECK(same, "odd header length: unaligned tensors are copied aligned, bytes intact %s", err);
    if (!st) lmr_weights_free(&w);
    t_rmdir(dir);
}

static void folder_cases(void) {
    char dir[256], path[300];
    expect("/nonexistent/lmr-model", LMR_ERR_IO, "/nonexistent/lmr-model: model folder does not exist", "missing folder");
    t_tmpdir("load", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/config.json", base);
    /* a file is read as GGUF (gguf_test.c covers those); anything else is refused as such */
    expect(path, LMR_ERR_FORMAT, "config.json: not a GGUF file", "a file that is neither a folder nor GGUF");
    expect(NULL, LMR_ERR_INVALID_ARG, "no path given", "NULL folder");
    expect(dir, LMR_ERR_IO, "config.json: cannot open: No such file or directory", "missing config.json");
    t_write_str(dir, "config.json", "{\"model_type\": \"llama\",\n \"hidden_size\": 64,\n \"vocab_size\": 5x}");
    expect(dir, LMR_ERR_FORMAT, "config.json:3:17: invalid JSON: expected ',' or '}', found 'x'", "malformed config.json");
    size_t n;
    char *cfg = t_read(base, "config.json", &n);
    t_write(dir, "config.json", cfg, n / 2);
    expect(dir, LMR_ERR_FORMAT, "config.json:", "truncated config.json");
    t_write(dir, "config.json", cfg, n);
    expect(dir, LMR_ERR_IO, "no model.safetensors or model.safetensors.index.json", "config.json but no weights");
    /* tied config over an untied checkpoint: lm_head.weight is an ignored extra */
    char *tied = strstr(cfg, "\"tie_word_embeddings\":false");
    memcpy(tied, "\"tie_word_embeddings\":true ", 27);
    t_write(dir, "config.json", cfg, n);
    t_copy(base, dir, "model.safetensors");
    char err[512] = "";
    lmr_weights w;
    lmr_status st = lmr_weights_load(dir, &w, err, sizeof err);
    CHECK(st == LMR_OK && w.n_tensors == ref.n_tensors - 1 && !lmr_weights_find(&w, "lm_head.weight") &&
              w.total_bytes == ref.total_bytes - ref.tensors[ref.n_tensors - 1].bytes,
          "extra tensor (lm_head of a tied config) ignored %s", err);
    if (!st) lmr_weights_free(&w);
    free(cfg);
    t_rmdir(dir);
}

/* Save tensors [from, to) of ref as dir/name. */
static void save_part(const char *dir, const char *name, int32_t from, int32_t to) {
    char tmp[256], err[512];
    lmr_weights part = ref;
    part.tensors = ref.tensors + from;
    part.n_tensors = to - from;
    t_tmpdir("part", tmp, sizeof tmp);
    if (lmr_weights_save(&part, tmp, err, sizeof err)) {
        fprintf(stderr, "save_part: %s\n", err);
        exit(2);
    }
    size_t n;
    char *b = t_read(tmp, "model.safetensors", &n);
    t_write(dir, name, b, n);
    free(b);
    t_rmdir(tmp);
}

/* An index mapping tensors [0, half) to shard a and the rest to shard b; `moved` (if >= 0)
 * is mapped to a instead. */
static void write_index(const char *dir, const char *a, const char *b, int32_t half, int32_t moved) {
    size_t cap = 65536, k = 0;
    char *s = malloc(cap);
    k += (size_t)snprintf(s, cap, "{\"metadata\": {\"total_size\": %llu},\n \"weight_map\": {", (unsigned long long)ref.total_bytes);
    for (int32_t i = 0; i < ref.n_tensors; i++)
        k += (size_t)snprintf(s + k, cap - k, "%s\n  \"%s\": \"%s\"", i ? "," : "", ref.tensors[i].name,
                              i < half || i == moved ? a : b);
    snprintf(s + k, cap - k, "\n }\n}\n");
    t_write_str(dir, "model.safetensors.index.json", s);
    free(s);
}

static void shard_cases(void) {
    char dir[256], err[512] = "";
    int32_t half = ref.n_tensors / 2;
    const char *a = "model-00001-of-00002.safetensors", *b = "model-00002-of-00002.safetensors";
    t_tmpdir("shards", dir, sizeof dir);
    t_copy(base, dir, "config.json");
    save_part(dir, a, 0, half);
    save_part(dir, b, half, ref.n_tensors);
    write_index(dir, a, b, half, -1);
    lmr_weights w;
    lmr_status st = lmr_weights_load(dir, &w, err, sizeof err);
    int same = st == LMR_OK && w.n_tensors == ref.n_tensors && w.n_maps == 2;
    for (int32_t i = 0; same && i < w.n_tensors; i++)
        same = !strcmp(w.tensors[i].name, ref.tensors[i].name) && !memcmp(w.tensors[i].data, ref.tensors[i].data, ref.tensors[i].bytes);
    CHECK(same, "two shards + index: %d tensors in %d files, bytes identical %s", w.n_tensors, w.n_maps, err);
    if (!st) lmr_weights_free(&w);

    write_index(dir, a, b, half, half); /* tensor `half` sits in b but the index says a */
    expect(dir, LMR_ERR_FORMAT, "is in this shard but the index maps it to model-00001-of-00002.safetensors", "index disagrees with shard");
    save_part(dir, b, half - 1, ref.n_tensors); /* tensor half-1 now in both */
    write_index(dir, a, b, half, -1);
    expect(dir, LMR_ERR_FORMAT, "is also in", "tensor in two shards");
    save_part(dir, b, half, ref.n_tensors);
    write_index(dir, a, "model-00003-of-00002.safetensors", half, -1);
    expect(dir, LMR_ERR_IO, "model-00003-of-00002.safetensors: shard named in model.safetensors.index.json is missing",
           "index naming a missing shard");
    write_index(dir, a, "../model.safetensors", half, -1);
    expect(dir, LMR_ERR_FORMAT, "must name a file in the same folder", "index escaping the folder");
    t_write_str(dir, "model.safetensors.index.json", "{\"metadata\": {}}");
    expect(dir, LMR_ERR_FORMAT, "model.safetensors.index.json: no \"weight_map\" object", "index without weight_map");
    t_write_str(dir, "model.safetensors.index.json", "{\"weight_map\": {\"x\": 3}}");
    expect(dir, LMR_ERR_FORMAT, "weight_map entry \"x\" must name a file", "weight_map value not a string");
    t_write_str(dir, "model.safetensors.index.json", "{\"weight_map\": {}}");
    expect(dir, LMR_ERR_FORMAT, "\"weight_map\" is empty", "empty weight_map");
    t_write_str(dir, "model.safetensors.index.json", "{\"weight_map\": {\"a\": \"b\",}}");
    expect(dir, LMR_ERR_FORMAT, "model.safetensors.index.json:1:26: invalid JSON", "malformed index");
    t_rmdir(dir);
}

/* A Hugging Face hub cache snapshot: the files are symlinks into ../../blobs/. */
static void snapshot_case(void) {
    char repo[256], p[600], q[600], err[512] = "";
    t_tmpdir("hub", repo, sizeof repo);
    snprintf(p, sizeof p, "%s/blobs", repo);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/snapshots", repo);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/snapshots/0123abc", repo);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/blobs", repo);
    t_copy(base, p, "config.json");
    t_copy(base, p, "model.safetensors");
    const char *names[2] = {"config.json", "model.safetensors"};
    int ok = 1;
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "../../blobs/%s", names[i]);
        snprintf(q, sizeof q, "%s/snapshots/0123abc/%s", repo, names[i]);
        ok &= symlink(p, q) == 0;
    }
    snprintf(p, sizeof p, "%s/snapshots/0123abc", repo);
    lmr_weights w;
    lmr_status st = ok ? lmr_weights_load(p, &w, err, sizeof err) : LMR_ERR_IO;
    int same = st == LMR_OK && w.n_tensors == ref.n_tensors;
    for (int32_t i = 0; same && i < w.n_tensors; i++)
        same = !memcmp(w.tensors[i].data, ref.tensors[i].data, ref.tensors[i].bytes);
    CHECK(same, "hub snapshot of symlinks into blobs/ loads, bytes identical %s", err);
    if (!st) lmr_weights_free(&w);
    snprintf(q, sizeof q, "rm -rf '%s'", repo);
    if (system(q) != 0) printf("note: could not remove %s\n", repo);
}

/* A FIFO must be refused at once, never waited on; the alarm turns a hang into a failure. */
static void fifo_cases(void) {
    char dir[256], path[300];
    alarm(30);
    t_tmpdir("fifo", dir, sizeof dir);
    snprintf(path, sizeof path, "%s/config.json", dir);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo %s", path);
    expect(dir, LMR_ERR_IO, "config.json: not a regular file", "a FIFO named config.json");
    unlink(path);
    t_copy(base, dir, "config.json");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(mkfifo(path, 0600) == 0, "mkfifo %s", path);
    expect(dir, LMR_ERR_IO, "model.safetensors: not a regular file", "a FIFO named model.safetensors");
    alarm(0);
    t_rmdir(dir);
}

/* Loose inputs: a dtype with an embedded NUL, and a config with fewer layers than the file. */
static void loose_cases(void) {
    char dir[256];
    case_dir(dir, sizeof dir, "\"dtype\":\"BF16\"", "\"dtype\":\"BF16\\u0000\"");
    expect(dir, LMR_ERR_FORMAT, "has a dtype string with an embedded NUL", "dtype \"BF16\\u0000\"");
    case_dir(dir, sizeof dir, "\"dtype\":\"BF16\"", "\"dtype\":\"BF16\\u0000x\"");
    expect(dir, LMR_ERR_FORMAT, "embedded NUL", "dtype \"BF16\\u0000x\"");
    t_rmdir(dir);

    size_t n;
    char *cfg = t_read(base, "config.json", &n);
    char *at = strstr(cfg, "\"num_hidden_layers\":2");
    CHECK(at != NULL, "fixture config names 2 layers");
    if (!at) return;
    at[strlen("\"num_hidden_layers\":")] = '1';
    t_tmpdir("layers", dir, sizeof dir);
    t_write(dir, "config.json", cfg, n);
    t_copy(base, dir, "model.safetensors");
    expect(dir, LMR_ERR_FORMAT,
           "9 tensors in the weights are not used by config.json (num_hidden_layers 1): "
           "\"model.layers.1.",
           "config with 1 layer over a 2-layer checkpoint: unused tensors named");
    free(cfg);
    t_rmdir(dir);
}

/* The mapped files are watched: truncation or a rewrite after the load is reported. */
static void changed_file_cases(void) {
    char dir[256], path[300], err[512] = "";
    case_dir(dir, sizeof dir, NULL, NULL);
    lmr_weights w;
    lmr_status st = lmr_weights_load(dir, &w, err, sizeof err);
    CHECK(st == LMR_OK && w.n_files == 1 && lmr_weights_check_files(&w, err, sizeof err) == LMR_OK,
          "loaded folder: one watched file, unchanged %s", err);
    if (st) return;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    struct stat sb;
    stat(path, &sb);
    CHECK(truncate(path, sb.st_size / 2) == 0, "truncate the weights to half");
    st = lmr_weights_check_files(&w, err, sizeof err);
    CHECK(st == LMR_ERR_IO && t_has(err, "model.safetensors: the weights file changed after the "
                                         "model was loaded") && t_has(err, "SIGBUS"),
          "truncated file reported: %s", err);
    lmr_weights_free(&w);
    t_rmdir(dir);

    case_dir(dir, sizeof dir, NULL, NULL);
    st = lmr_weights_load(dir, &w, err, sizeof err);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1000000, 0}};
    CHECK(st == LMR_OK && utimensat(AT_FDCWD, path, ts, 0) == 0, "set the mtime back");
    st = lmr_weights_check_files(&w, err, sizeof err);
    CHECK(st == LMR_ERR_IO && t_has(err, "modified since"), "same size, new mtime reported: %s",
          err);
    if (w.n_files) lmr_weights_free(&w);
    t_rmdir(dir);
}

int main(void) {
    char err[512];
    if (lmr_weights_synthesize("tiny-llama", LMR_DTYPE_BF16, 3, 0, 2, &ref, err, sizeof err)) {
        printf("FAIL synthesize: %s\n", err);
        return 1;
    }
    t_tmpdir("base", base, sizeof base);
    lmr_status st = lmr_weights_save(&ref, base, err, sizeof err);
    CHECK(st == LMR_OK, "fixture saved in %s %s", base, err);
    expect(base, LMR_OK, "", "the unmodified fixture loads");
    header_cases();
    folder_cases();
    shard_cases();
    snapshot_case();
    fifo_cases();
    loose_cases();
    changed_file_cases();
    t_rmdir(base);
    lmr_weights_free(&ref);
    return t_done();
}
