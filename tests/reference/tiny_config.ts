// Small Hugging Face configs of both architectures for numerics tests: GQA (4 heads over 2 KV
// heads, head_dim 16), hidden 64, FFN 128, vocab 512, 3 layers.

/** The config.json keys Qwen2/Llama models carry (the subset the engine and reference read). */
export interface HfConfig {
  architectures: string[];
  model_type: "qwen2" | "llama";
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim?: number;
  vocab_size: number;
  max_position_embeddings: number;
  rope_theta: number;
  rms_norm_eps: number;
  tie_word_embeddings: boolean;
  torch_dtype: "bfloat16" | "float16" | "float32";
  [key: string]: unknown;
}

/**
 * Returns a small config as transformers would save it: Qwen2 ties its embeddings (biases on
 * q, k, v come with the architecture); Llama has an untied lm_head and no biases.
 *
 * @param arch "qwen2" or "llama"
 * @param overrides keys to replace
 * @returns a fresh config object
 * @example
 * ```ts
 * const config = tinyConfig("llama", { num_hidden_layers: 2 });
 * ```
 */
export function tinyConfig(arch: "qwen2" | "llama", overrides: Partial<HfConfig> = {}): HfConfig {
  const common = {
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 3,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    vocab_size: 512,
    max_position_embeddings: 256,
    hidden_act: "silu",
    initializer_range: 0.02,
    attention_dropout: 0.0,
    use_cache: true,
    bos_token_id: 1,
    eos_token_id: 2,
    torch_dtype: "bfloat16" as const,
    transformers_version: "4.45.2",
  };
  const base: HfConfig = arch === "qwen2"
    ? {
      architectures: ["Qwen2ForCausalLM"],
      model_type: "qwen2",
      ...common,
      rope_theta: 1000000.0,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: true,
      use_sliding_window: false,
      sliding_window: 256,
      max_window_layers: 3,
      rope_scaling: null,
    }
    : {
      architectures: ["LlamaForCausalLM"],
      model_type: "llama",
      ...common,
      rope_theta: 10000.0,
      rms_norm_eps: 1e-5,
      tie_word_embeddings: false,
      attention_bias: false,
      mlp_bias: false,
      pretraining_tp: 1,
      rope_scaling: null,
    };
  return { ...base, ...overrides };
}
