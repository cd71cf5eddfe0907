/**
 * Tokenizers: load one for a model folder or a synthetic preset, encode and decode, detokenize a
 * stream, render chat templates.
 * @module
 */
export { loadTokenizer } from "./load_tokenizer.ts";
export { StreamingDetokenizer } from "./streaming_detokenizer.ts";
export { createWhitespaceTokenizer } from "./create_whitespace_tokenizer.ts";
export type {
  ChatMessage,
  ChatTemplateOptions,
  DecodeOptions,
  EncodeOptions,
  TextTokenizer,
} from "./types.ts";
