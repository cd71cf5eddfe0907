/* model_io.h: model configuration and weights as read from Hugging Face folders or synthesized
 * (internal). The engine binds tensors by their Hugging Face names; backends upload or use them
 * in place. Every fallible function writes a one-line message to err[errcap] naming the file,
 * the field or tensor, and what was wrong, and returns an LMR_ERR_* status. */
#ifndef LMR_MODEL_IO_H
#define LMR_MODEL_IO_H

#include <stddef.h>
#include <stdint.h>

#include "lmrig.h"

typedef struct {
    char arch[32];          /* "qwen2" or "llama" (from model_type / architectures) */
    char name[128];         /* preset name or folder base name */
    int32_t n_layers;       /* num_hidden_layers */
    int32_t hidden;         /* hidden_size */
    int32_t n_heads;        /* num_attention_heads */
    int32_t n_kv_heads;     /* num_key_value_heads (defaults to n_heads) */
    int32_t head_dim;       /* head_dim if given, else hidden / n_heads */
    int32_t ffn;            /* intermediate_size */
    int32_t vocab;          /* vocab_size */
    int32_t max_pos;        /* max_position_embeddings */
    int32_t tie_embeddings; /* tie_word_embeddings (qwen2 small models: true) */
    int32_t attn_bias;      /* q/k/v biases: 1 for qwen2, attention_bias for llama */
    int32_t dtype;          /* torch_dtype as LMR_DTYPE_* (informational) */
    int32_t bos_token_id;   /* -1 when absent */
    int32_t eos_token_id;   /* -1 when absent (first one when a list) */
    double rope_theta;      /* default 10000 */
    double rms_eps;         /* rms_norm_eps, default 1e-6 */
} lmr_config;

typedef struct {
    char name[128];    /* Hugging Face name, e.g. "model.layers.0.self_attn.q_proj.weight" */
    int32_t dtype;     /* LMR_DTYPE_F32 | F16 | BF16, or Q8_0 | Q4_K | Q6_K (GGUF, 2-D only) */
    int32_t n_dims;
    int64_t shape[4];  /* row-major; a Linear weight is [out, in] */
    const void *data;  /* in an mmap'd file or in owned memory; 2-byte aligned at least */
    uint64_t bytes;    /* real bytes (quantised: blocks); a row is bytes / shape[0] */
} lmr_tensor;

typedef struct {
    lmr_config cfg;
    lmr_tensor *tensors; /* owned */
    int32_t n_tensors;
    int32_t synthetic;   /* 1 when synthesized */
    uint64_t seed;
    uint64_t total_bytes; /* bytes of all tensors */
    /* ownership: mmap'd files and/or one anonymous mapping for synthetic weights */
    void **maps;
    uint64_t *map_sizes;
    int32_t n_maps;
    /* the mapped files, watched for changes (lmr_weights_check_files); none when synthesized */
    int32_t n_files;
    int *fds;            /* open, closed by lmr_weights_free */
    uint64_t *file_sizes;
    int64_t *file_mtimes_ns;
    char (*file_names)[64]; /* base names for messages */
} lmr_weights;

/* Parse config.json text. `where` names the file in messages. Unknown architectures (anything
 * but qwen2/llama and their *ForCausalLM names) are LMR_ERR_UNSUPPORTED. */
lmr_status lmr_config_parse(const char *json, size_t len, const char *where, lmr_config *out,
                            char *err, size_t errcap);
/* Expected tensor names and shapes for cfg, in a stable order; returns the count, writes at most
 * cap entries (name, n_dims, shape filled; data NULL). */
int32_t lmr_config_tensors(const lmr_config *cfg, lmr_tensor *out, int32_t cap);
/* Named presets: fills cfg, or LMR_ERR_INVALID_ARG listing the valid names. */
lmr_status lmr_config_preset(const char *name, lmr_config *out, char *err, size_t errcap);
const char *lmr_config_preset_names(void); /* '\n'-separated */

/* Load dir/config.json and dir/model.safetensors or the shards named by
 * dir/model.safetensors.index.json; mmap the files and check every expected tensor is present
 * once with the right shape and a supported dtype, inside its file, not overlapping another. */
lmr_status lmr_weights_load(const char *dir, lmr_weights *out, char *err, size_t errcap);
/* Load one GGUF file (gguf_load.c): qwen2 or llama metadata -> cfg, tensors bound under their
 * Hugging Face names with shapes [out, in], each with its own dtype (F32, F16, BF16 or, for
 * 2-D weights, Q8_0, Q4_K, Q6_K). lmr_weights_load calls it for a regular file, or for a folder
 * without config.json that holds exactly one .gguf file. */
lmr_status lmr_weights_load_gguf(const char *path, lmr_weights *out, char *err, size_t errcap);
/* spec: preset name or path of a config.json. dtype: LMR_DTYPE_BF16/F16/F32. Uses n_threads
 * threads; values are seeded and of realistic scale. n_layers > 0 overrides the layer count. */
lmr_status lmr_weights_synthesize(const char *spec, int32_t dtype, uint64_t seed, int32_t n_layers,
                                  int32_t n_threads, lmr_weights *out, char *err, size_t errcap);
/* Write dir/config.json and dir/model.safetensors (creating dir). */
lmr_status lmr_weights_save(const lmr_weights *w, const char *dir, char *err, size_t errcap);
const lmr_tensor *lmr_weights_find(const lmr_weights *w, const char *name);
void lmr_weights_free(lmr_weights *w); /* safe on a zeroed or partly filled struct */
/* LMR_ERR_IO when a mapped file shrank or was modified since the load (reading its pages could
 * raise SIGBUS or give other weights); one fstat per file, cheap enough for every call. */
lmr_status lmr_weights_check_files(const lmr_weights *w, char *err, size_t errcap);

#endif /* LMR_MODEL_IO_H */
