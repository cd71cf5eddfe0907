/* config_test.c: config.json parsing (the real Qwen2.5-1.5B-Instruct and TinyLlama configs,
 * transformers' defaults, every rejection), presets, and the implied tensor list. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "models/model_io.h"
#include "models/test_util.h"

/* As published on the Hugging Face hub (rope_scaling: null added to the Qwen one). */
static const char *QWEN15 =
    "{\n  \"architectures\": [\n    \"Qwen2ForCausalLM\"\n  ],\n  \"attention_dropout\": 0.0,\n"
    "  \"bos_token_id\": 151643,\n  \"eos_token_id\": 151645,\n  \"hidden_act\": \"silu\",\n"
    "  \"hidden_size\": 1536,\n  \"initializer_range\": 0.02,\n  \"intermediate_size\": 8960,\n"
    "  \"max_position_embeddings\": 32768,\n  \"max_window_layers\": 21,\n  \"model_type\": \"qwen2\",\n"
    "  \"num_attention_heads\": 12,\n  \"num_hidden_layers\": 28,\n  \"num_key_value_heads\": 2,\n"
    "  \"rms_norm_eps\": 1e-06,\n  \"rope_scaling\": null,\n  \"rope_theta\": 1000000.0,\n"
    "  \"sliding_window\": 32768,\n  \"tie_word_embeddings\": true,\n  \"torch_dtype\": \"bfloat16\",\n"
    "  \"transformers_version\": \"4.43.1\",\n  \"use_cache\": true,\n  \"use_sliding_window\": false,\n"
    "  \"vocab_size\": 151936\n}\n";

static const char *TINYLLAMA =
    "{\n  \"architectures\": [\n    \"LlamaForCausalLM\"\n  ],\n  \"attention_bias\": false,\n"
    "  \"bos_token_id\": 1,\n  \"eos_token_id\": 2,\n  \"hidden_act\": \"silu\",\n  \"hidden_size\": 2048,\n"
    "  \"initializer_range\": 0.02,\n  \"intermediate_size\": 5632,\n  \"max_position_embeddings\": 2048,\n"
    "  \"model_type\": \"llama\",\n  \"num_attention_heads\": 32,\n  \"num_hidden_layers\": 22,\n"
    "  \"num_key_value_heads\": 4,\n  \"pretraining_tp\": 1,\n  \"rms_norm_eps\": 1e-05,\n"
    "  \"rope_scaling\": null,\n  \"rope_theta\": 10000.0,\n  \"tie_word_embeddings\": false,\n"
    "  \"torch_dtype\": \"bfloat16\",\n  \"transformers_version\": \"4.35.0\",\n  \"use_cache\": true,\n"
    "  \"vocab_size\": 32000\n}\n";

#define BASE "\"model_type\":\"llama\",\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2," \
             "\"num_attention_heads\":4,\"vocab_size\":512"

static lmr_status parse(const char *json, lmr_config *c, char *err, size_t cap) {
    return lmr_config_parse(json, strlen(json), "cfg/config.json", c, err, cap);
}

static int same_shape(const lmr_config *a, const lmr_config *b) {
    return !strcmp(a->arch, b->arch) && a->n_layers == b->n_layers && a->hidden == b->hidden &&
           a->n_heads == b->n_heads && a->n_kv_heads == b->n_kv_heads && a->head_dim == b->head_dim &&
           a->ffn == b->ffn && a->vocab == b->vocab && a->max_pos == b->max_pos &&
           a->tie_embeddings == b->tie_embeddings && a->attn_bias == b->attn_bias &&
           a->rope_theta == b->rope_theta && a->rms_eps == b->rms_eps && a->dtype == b->dtype &&
           a->bos_token_id == b->bos_token_id && a->eos_token_id == b->eos_token_id;
}

static void real_configs(void) {
    char err[512] = "";
    lmr_config c, p;
    lmr_status st = parse(QWEN15, &c, err, sizeof err);
    lmr_config_preset("qwen2.5-1.5b", &p, err, sizeof err);
    CHECK(st == LMR_OK && same_shape(&c, &p), "Qwen2.5-1.5B-Instruct config.json equals the qwen2.5-1.5b preset %s", err);
    CHECK(c.head_dim == 128 && c.attn_bias == 1 && c.dtype == LMR_DTYPE_BF16, "qwen: head_dim 128 derived, q/k/v bias, bf16");
    st = parse(TINYLLAMA, &c, err, sizeof err);
    lmr_config_preset("tinyllama-1.1b", &p, err, sizeof err);
    CHECK(st == LMR_OK && same_shape(&c, &p), "TinyLlama-1.1B-Chat config.json equals the tinyllama-1.1b preset %s", err);
    CHECK(c.rms_eps == 1e-5 && c.tie_embeddings == 0 && c.attn_bias == 0, "tinyllama: eps 1e-5, untied, no bias");
}

static void reject(const char *json, lmr_status want, const char *msg);

/* transformers 5 saves RoPE as "rope_parameters" (no top-level rope_theta) */
static void rope_parameters(void) {
    char err[512] = "";
    lmr_config c;
    lmr_status st = parse("{" BASE ",\"rope_parameters\":{\"rope_theta\":1000000.0,\"rope_type\":\"default\"},"
                          "\"dtype\":\"bfloat16\"}", &c, err, sizeof err);
    CHECK(st == LMR_OK && c.rope_theta == 1e6 && c.dtype == LMR_DTYPE_BF16,
          "transformers 5 config: rope_parameters.rope_theta 1e6 and dtype bfloat16 are read %s", err);
    st = parse("{" BASE ",\"rope_theta\":5e5,\"rope_parameters\":{\"rope_theta\":1e6}}", &c, err, sizeof err);
    CHECK(st == LMR_OK && c.rope_theta == 5e5, "a top-level rope_theta wins over rope_parameters %s", err);
    reject("{" BASE ",\"rope_parameters\":{\"rope_theta\":1e6,\"rope_type\":\"yarn\"}}", LMR_ERR_UNSUPPORTED,
           "\"rope_parameters\" rope_type is not supported");
    reject("{" BASE ",\"rope_parameters\":{\"rope_theta\":-1}}", LMR_ERR_FORMAT,
           "\"rope_parameters\" rope_theta is out of range: -1");
    reject("{" BASE ",\"rope_parameters\":3}", LMR_ERR_FORMAT, "\"rope_parameters\" must be null or an object");
}

static void defaults(void) {
    char err[512] = "";
    lmr_config c;
    lmr_status st = parse("{" BASE "}", &c, err, sizeof err);
    CHECK(st == LMR_OK && !strcmp(c.arch, "llama") && c.n_kv_heads == 4 && c.head_dim == 16 && c.rope_theta == 10000.0 &&
              c.rms_eps == 1e-6 && c.tie_embeddings == 0 && c.attn_bias == 0 && c.max_pos == 2048 &&
              c.bos_token_id == -1 && c.eos_token_id == -1 && c.dtype == LMR_DTYPE_DEFAULT,
          "llama defaults: kv = heads, head_dim = hidden/heads, theta 1e4, eps 1e-6, untied, no bias, 2048 pos %s", err);
    st = parse("{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":128,"
               "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":512}", &c, err, sizeof err);
    CHECK(st == LMR_OK && !strcmp(c.arch, "qwen2") && c.attn_bias == 1 && c.max_pos == 32768 && c.tie_embeddings == 0,
          "qwen2 from architectures alone: bias, 32768 positions, untied %s", err);
    st = parse("{\"model_type\":\"mistral\",\"sliding_window\":null,\"hidden_size\":64,\"intermediate_size\":128,"
               "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":1,\"vocab_size\":512,"
               "\"head_dim\":32}", &c, err, sizeof err);
    CHECK(st == LMR_OK && !strcmp(c.arch, "llama") && c.head_dim == 32 && c.n_kv_heads == 1 && c.max_pos == 131072,
          "mistral maps to llama; explicit head_dim 32 (heads*head_dim != hidden) kept %s", err);
    st = parse("{" BASE ",\"eos_token_id\":[7,2],\"bos_token_id\":null,\"hidden_size\":64.0}", &c, err, sizeof err);
    CHECK(st != LMR_OK && t_has(err, "duplicate key \"hidden_size\""), "duplicate key rejected: %s", err);
    st = parse("{\"model_type\":\"llama\",\"hidden_size\":64.0,\"intermediate_size\":128,\"num_hidden_layers\":2,"
               "\"num_attention_heads\":4,\"vocab_size\":512,\"eos_token_id\":[7,2],\"bos_token_id\":null,"
               "\"rope_scaling\":{\"rope_type\":\"default\"},\"dtype\":\"float16\"}", &c, err, sizeof err);
    CHECK(st == LMR_OK && c.eos_token_id == 7 && c.bos_token_id == -1 && c.hidden == 64 && c.dtype == LMR_DTYPE_F16,
          "eos list -> first, null bos -> -1, 64.0 accepted as integral, rope_type default ok, dtype key %s", err);
}

static void reject(const char *json, lmr_status want, const char *msg) {
    char err[512] = "";
    lmr_config c;
    lmr_status st = parse(json, &c, err, sizeof err);
    CHECK(st == want && t_has(err, msg) && t_has(err, "cfg/config.json"), "%s -> %s", msg, err);
}

static void rejections(void) {
    reject("{\"model_type\":\"llama\",\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,"
           "\"vocab_size\":512}", LMR_ERR_FORMAT, "\"hidden_size\" is missing");
    reject("{" BASE ",\"num_hidden_layers\":0}", LMR_ERR_FORMAT, "duplicate key");
    reject("{\"model_type\":\"llama\",\"hidden_size\":0,\"intermediate_size\":128,\"num_hidden_layers\":2,"
           "\"num_attention_heads\":4,\"vocab_size\":512}", LMR_ERR_FORMAT, "\"hidden_size\" is out of range: 0");
    reject("{\"model_type\":\"llama\",\"hidden_size\":64,\"intermediate_size\":-128,\"num_hidden_layers\":2,"
           "\"num_attention_heads\":4,\"vocab_size\":512}", LMR_ERR_FORMAT, "\"intermediate_size\" is out of range: -128");
    reject("{\"model_type\":\"llama\",\"hidden_size\":64.5,\"intermediate_size\":128,\"num_hidden_layers\":2,"
           "\"num_attention_heads\":4,\"vocab_size\":512}", LMR_ERR_FORMAT, "\"hidden_size\" must be an integer, got 64.5");
    reject("{\"model_type\":\"llama\",\"hidden_size\":\"64\",\"intermediate_size\":128,\"num_hidden_layers\":2,"
           "\"num_attention_heads\":4,\"vocab_size\":512}", LMR_ERR_FORMAT, "must be an integer, got the string \"64\"");
    reject("{\"model_type\":\"llama\",\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,"
           "\"num_attention_heads\":5,\"vocab_size\":512}", LMR_ERR_FORMAT, "\"hidden_size\" 64 is not divisible by num_attention_heads 5");
    reject("{" BASE ",\"num_key_value_heads\":3}", LMR_ERR_FORMAT, "\"num_attention_heads\" 4 is not divisible by num_key_value_heads 3");
    reject("{" BASE ",\"num_key_value_heads\":8}", LMR_ERR_FORMAT, "\"num_key_value_heads\" is out of range: 8");
    reject("{\"model_type\":\"llama\",\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,"
           "\"num_attention_heads\":4,\"vocab_size\":16777217}", LMR_ERR_FORMAT, "\"vocab_size\" is out of range: 16777217");
    reject("{\"model_type\":\"llama\",\"hidden_size\":16777216,\"intermediate_size\":128,\"num_hidden_layers\":2,"
           "\"num_attention_heads\":4,\"vocab_size\":512}", LMR_ERR_FORMAT, "parameters, over the limit of 2^40");
    reject("{\"model_type\":\"llama\",\"hidden_size\":65536,\"intermediate_size\":1048576,\"num_hidden_layers\":4096,"
           "\"num_attention_heads\":512,\"vocab_size\":512}", LMR_ERR_FORMAT, "over the limit of 2^40");
    reject("{" BASE ",\"head_dim\":15}", LMR_ERR_FORMAT, "head dimension 15 is odd");
    reject("{" BASE ",\"rope_scaling\":{\"type\":\"linear\",\"factor\":2.0}}", LMR_ERR_UNSUPPORTED,
           "rope_scaling type \"linear\" is not supported");
    reject("{" BASE ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8.0}}", LMR_ERR_UNSUPPORTED,
           "rope_scaling type \"llama3\" is not supported");
    reject("{" BASE ",\"rope_scaling\":{\"factor\":8.0}}", LMR_ERR_FORMAT, "\"rope_scaling\" must be null or an object with a \"rope_type\"");
    reject("{\"model_type\":\"qwen3\",\"hidden_size\":64}", LMR_ERR_UNSUPPORTED, "model_type \"qwen3\" is not supported");
    reject("{\"model_type\":\"x\\ny\"}", LMR_ERR_UNSUPPORTED, "model_type \"x?y\" is not supported");
    reject("{\"architectures\":[\"GPT2LMHeadModel\"]}", LMR_ERR_UNSUPPORTED, "architecture \"GPT2LMHeadModel\" is not supported");
    reject("{\"hidden_size\":64}", LMR_ERR_FORMAT, "neither \"model_type\" nor \"architectures\" is given");
    reject("{\"model_type\":7}", LMR_ERR_FORMAT, "\"model_type\" must be a string, got 7");
    reject("{\"model_type\":\"qwen2\",\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,"
           "\"num_attention_heads\":4,\"vocab_size\":512,\"use_sliding_window\":true}", LMR_ERR_UNSUPPORTED,
           "\"use_sliding_window\": true (sliding-window attention) is not supported");
    reject("{\"model_type\":\"mistral\",\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,"
           "\"num_attention_heads\":4,\"vocab_size\":512,\"sliding_window\":4096}", LMR_ERR_UNSUPPORTED,
           "\"sliding_window\" is set: sliding-window attention is not supported");
    reject("{" BASE ",\"attention_bias\":true}", LMR_ERR_UNSUPPORTED, "\"attention_bias\": true is not supported for llama");
    reject("{" BASE ",\"mlp_bias\":true}", LMR_ERR_UNSUPPORTED, "\"mlp_bias\": true is not supported");
    reject("{" BASE ",\"hidden_act\":\"gelu\"}", LMR_ERR_UNSUPPORTED, "\"hidden_act\" the string \"gelu\" is not supported");
    reject("{" BASE ",\"eos_token_id\":512}", LMR_ERR_FORMAT, "\"eos_token_id\" is out of range: 512");
    reject("{" BASE ",\"eos_token_id\":[1,\"x\"]}", LMR_ERR_FORMAT, "\"eos_token_id\" holds the string \"x\"");
    reject("{" BASE ",\"tie_word_embeddings\":\"yes\"}", LMR_ERR_FORMAT, "\"tie_word_embeddings\" must be true or false");
    reject("{" BASE ",\"rms_norm_eps\":0}", LMR_ERR_FORMAT, "\"rms_norm_eps\" is out of range: 0");
    reject("{" BASE ",\"rope_theta\":-1}", LMR_ERR_FORMAT, "\"rope_theta\" is out of range: -1");
    reject("{" BASE ",\"rope_theta\":\"big\"}", LMR_ERR_FORMAT, "\"rope_theta\" must be a number");
    reject("[1]", LMR_ERR_FORMAT, "the top level must be an object, not array");
    reject("{\n  \"model_type\": \"llama\",\n  \"hidden_size\": 64,,\n}", LMR_ERR_FORMAT, "cfg/config.json:3:21: invalid JSON: expected a string key");
    reject("{\"model_type\":\"llama\"", LMR_ERR_FORMAT, "cfg/config.json:1:22: invalid JSON: expected ',' or '}', found end of input");
}

static void presets_and_tensors(void) {
    char err[512] = "";
    lmr_config c;
    const char *names[] = {"qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b", "tinyllama-1.1b", "tiny-qwen2", "tiny-llama"};
    const int32_t counts[] = {1 + 24 * 12 + 1, 1 + 28 * 12 + 1, 1 + 36 * 12 + 1, 1 + 22 * 9 + 2, 1 + 2 * 12 + 1, 1 + 2 * 9 + 2};
    for (int i = 0; i < 6; i++) {
        lmr_status st = lmr_config_preset(names[i], &c, err, sizeof err);
        int32_t n = st ? -1 : lmr_config_tensors(&c, NULL, 0);
        CHECK(st == LMR_OK && !strcmp(c.name, names[i]) && n == counts[i] && t_has(lmr_config_preset_names(), names[i]),
              "preset %s: %d tensors", names[i], n);
    }
    lmr_status st = lmr_config_preset("qwen2.5-7b", &c, err, sizeof err);
    CHECK(st == LMR_ERR_INVALID_ARG && t_has(err, "\"qwen2.5-7b\"") && t_has(err, "tiny-llama"), "unknown preset: %s", err);

    lmr_config_preset("qwen2.5-1.5b", &c, err, sizeof err);
    lmr_tensor t[400];
    int32_t n = lmr_config_tensors(&c, t, 400);
    uint64_t params = 0, bytes = 0;
    for (int32_t i = 0; i < n; i++) {
        params += t[i].bytes / 2;
        bytes += t[i].bytes;
    }
    CHECK(params == 1543714304ull && bytes == 3087428608ull, "qwen2.5-1.5b: %llu parameters, %llu bytes BF16",
          (unsigned long long)params, (unsigned long long)bytes);
    CHECK(!strcmp(t[0].name, "model.embed_tokens.weight") && t[0].shape[0] == 151936 && t[0].shape[1] == 1536,
          "embed_tokens [151936, 1536]");
    CHECK(!strcmp(t[2].name, "model.layers.0.self_attn.q_proj.weight") && t[2].shape[0] == 1536 && t[2].shape[1] == 1536,
          "layer 0 q_proj [1536, 1536]");
    CHECK(!strcmp(t[5].name, "model.layers.0.self_attn.k_proj.bias") && t[5].n_dims == 1 && t[5].shape[0] == 256,
          "layer 0 k_proj.bias [256]");
    CHECK(!strcmp(t[8].name, "model.layers.0.self_attn.o_proj.weight") && t[8].shape[0] == 1536 && t[8].shape[1] == 1536,
          "o_proj [hidden, heads*head_dim]");
    CHECK(!strcmp(t[12].name, "model.layers.0.mlp.down_proj.weight") && t[12].shape[0] == 1536 && t[12].shape[1] == 8960,
          "down_proj [1536, 8960]");
    CHECK(!strcmp(t[n - 1].name, "model.norm.weight") && t[n - 1].data == NULL, "tied: last is model.norm.weight, no lm_head");
    lmr_config_preset("tinyllama-1.1b", &c, err, sizeof err);
    n = lmr_config_tensors(&c, t, 400);
    CHECK(!strcmp(t[n - 1].name, "lm_head.weight") && t[n - 1].shape[0] == 32000 && !strcmp(t[3].name, "model.layers.0.self_attn.k_proj.weight") &&
              t[3].shape[0] == 256 && t[3].shape[1] == 2048, "tinyllama: k_proj [256, 2048], no biases, lm_head last");
    int32_t m = lmr_config_tensors(&c, t, 3);
    CHECK(m == n, "a short buffer still reports the full count (%d)", m);
}

int main(void) {
    real_configs();
    defaults();
    rope_parameters();
    rejections();
    presets_and_tensors();
    return t_done();
}
