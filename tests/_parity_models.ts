/** Model configs and a prompt shared by the parity tests against llama.cpp (targets, GGUF). */

/**
 * Shapes large enough for RoPE and biases to matter: head_dim 64, theta 1e6, 48 positions.
 * qwen2 (NEOX rotary, q/k/v biases) and llama (interleaved rotary: the converter permutes q/k).
 */
export const PARITY_CONFIGS: Record<string, Record<string, unknown>> = {
  qwen2: {
    architectures: ["Qwen2ForCausalLM"],
    model_type: "qwen2",
    hidden_act: "silu",
    hidden_size: 256,
    intermediate_size: 512,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 64,
    vocab_size: 1024,
    max_position_embeddings: 4096,
    rope_theta: 1000000,
    rms_norm_eps: 1e-6,
    tie_word_embeddings: true,
    torch_dtype: "bfloat16",
  },
  llama: {
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_act: "silu",
    hidden_size: 256,
    intermediate_size: 512,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 1024,
    max_position_embeddings: 4096,
    rope_theta: 500000,
    rms_norm_eps: 1e-5,
    tie_word_embeddings: false,
    torch_dtype: "bfloat16",
  },
};

/** 48 token ids below the configs' vocabulary of 1024. */
export const PARITY_PROMPT = Array.from({ length: 48 }, (_, i) => (i * 7919 + 13) % 1024);
