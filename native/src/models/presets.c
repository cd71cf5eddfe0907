/* presets.c: named model shapes for synthesis (lmr_config_preset).
 *
 * The real ones copy the Hugging Face config.json of the named checkpoint:
 *   Qwen/Qwen2.5-0.5B-Instruct: 24 layers, hidden 896, 14 heads / 2 KV (head_dim 64), FFN 4864,
 *     vocab 151936, tied, rope_theta 1e6, rms eps 1e-6, max_position_embeddings 32768.
 *   Qwen/Qwen2.5-1.5B-Instruct: 28 layers, hidden 1536, 12 heads / 2 KV (head_dim 128), FFN 8960,
 *     vocab 151936, tied, rope_theta 1e6, eps 1e-6, 32768 positions: 1,543,714,304 parameters,
 *     3.09 GB in BF16.
 *   Qwen/Qwen2.5-3B-Instruct: 36 layers, hidden 2048, 16 heads / 2 KV (head_dim 128), FFN 11008,
 *     vocab 151936, tied, rope_theta 1e6, eps 1e-6, 32768 positions.
 *   The Qwen2.5 Instruct models use bos 151643 ("<|endoftext|>") and eos 151645 ("<|im_end|>");
 *   the base models' configs say 131072 positions and eos 151643 but have the same shapes.
 *   TinyLlama/TinyLlama-1.1B-Chat-v1.0 (llama): 22 layers, hidden 2048, 32 heads / 4 KV
 *     (head_dim 64), FFN 5632, vocab 32000, untied, rope_theta 10000, eps 1e-5, 2048 positions,
 *     bos 1, eos 2.
 * The tiny ones are for tests: 2 layers, hidden 64, 4 heads / 2 KV of 16, FFN 128, vocab 512,
 * 512 positions; tiny-qwen2 is tied with q/k/v biases, tiny-llama untied without. */
#include <stdio.h>
#include <string.h>

#include "models/model_io.h"

typedef struct {
    const char *name, *arch;
    int32_t layers, hidden, heads, kv, head_dim, ffn, vocab, max_pos, tied, bos, eos;
    double theta, eps;
} preset;

static const preset presets[] = {
    {"qwen2.5-0.5b", "qwen2", 24, 896, 14, 2, 64, 4864, 151936, 32768, 1, 151643, 151645, 1e6, 1e-6},
    {"qwen2.5-1.5b", "qwen2", 28, 1536, 12, 2, 128, 8960, 151936, 32768, 1, 151643, 151645, 1e6, 1e-6},
    {"qwen2.5-3b", "qwen2", 36, 2048, 16, 2, 128, 11008, 151936, 32768, 1, 151643, 151645, 1e6, 1e-6},
    {"tinyllama-1.1b", "llama", 22, 2048, 32, 4, 64, 5632, 32000, 2048, 0, 1, 2, 10000.0, 1e-5},
    {"tiny-qwen2", "qwen2", 2, 64, 4, 2, 16, 128, 512, 512, 1, 1, 2, 1e6, 1e-6},
    {"tiny-llama", "llama", 2, 64, 4, 2, 16, 128, 512, 512, 0, 1, 2, 10000.0, 1e-5},
};

#define N_PRESETS ((int)(sizeof presets / sizeof presets[0]))

const char *lmr_config_preset_names(void) {
    return "qwen2.5-0.5b\nqwen2.5-1.5b\nqwen2.5-3b\ntinyllama-1.1b\ntiny-qwen2\ntiny-llama";
}

lmr_status lmr_config_preset(const char *name, lmr_config *out, char *err, size_t errcap) {
    memset(out, 0, sizeof *out);
    for (int i = 0; name && i < N_PRESETS; i++) {
        const preset *p = &presets[i];
        if (strcmp(name, p->name)) continue;
        snprintf(out->arch, sizeof out->arch, "%s", p->arch);
        snprintf(out->name, sizeof out->name, "%s", p->name);
        out->n_layers = p->layers;
        out->hidden = p->hidden;
        out->n_heads = p->heads;
        out->n_kv_heads = p->kv;
        out->head_dim = p->head_dim;
        out->ffn = p->ffn;
        out->vocab = p->vocab;
        out->max_pos = p->max_pos;
        out->tie_embeddings = p->tied;
        out->attn_bias = !strcmp(p->arch, "qwen2");
        out->dtype = LMR_DTYPE_BF16;
        out->bos_token_id = p->bos;
        out->eos_token_id = p->eos;
        out->rope_theta = p->theta;
        out->rms_eps = p->eps;
        return LMR_OK;
    }
    if (err && errcap)
        snprintf(err, errcap,
                 "unknown model preset \"%.60s\" (presets: qwen2.5-0.5b, qwen2.5-1.5b, qwen2.5-3b, "
                 "tinyllama-1.1b, tiny-qwen2, tiny-llama)",
                 name ? name : "(null)");
    return LMR_ERR_INVALID_ARG;
}
