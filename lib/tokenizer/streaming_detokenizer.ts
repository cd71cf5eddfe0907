/** Turns token ids, fed one at a time, into printable text deltas. */
import type { DecodeOptions, TextTokenizer } from "./types.ts";

const REPLACEMENT = "\uFFFD";

/**
 * Incremental detokenizer. It decodes a short window of recent ids and holds text back while
 * it ends in U+FFFD (the bytes of a character split across tokens), so a delta never breaks a
 * multi-byte character. Decoding a window, not the whole sequence, keeps each push O(window);
 * the previous window's text is decoded again so that tokenizers which strip a leading space
 * (SentencePiece) or merge across tokens give the same deltas as a full decode.
 *
 * The deltas joined, plus {@link flush}, equal `tokenizer.decode(allIds)`.
 *
 * @example
 * ```ts
 * import { loadTokenizer } from "./load_tokenizer.ts";
 * import { StreamingDetokenizer } from "./streaming_detokenizer.ts";
 * const tok = await loadTokenizer("synthetic:qwen2.5-0.5b");
 * const detok = new StreamingDetokenizer(tok);
 * const parts = tok.encode("你好 🦀").map((id) => detok.push(id));
 * parts.join("") + detok.flush(); // "你好 🦀"
 * ```
 */
export class StreamingDetokenizer {
  #tokenizer: TextTokenizer;
  #options: DecodeOptions;
  #ids: number[] = [];
  #prefixOffset = 0; // start of the window decoded for context
  #readOffset = 0; // ids before this have been emitted
  #emitted = "";

  /**
   * @param tokenizer The tokenizer whose ids will be pushed.
   * @param options Decode options, as for `tokenizer.decode`.
   */
  constructor(tokenizer: TextTokenizer, options: DecodeOptions = {}) {
    this.#tokenizer = tokenizer;
    this.#options = options;
  }

  /**
   * Adds one token id.
   * @param id Token id.
   * @returns The new printable text ("" while a character is incomplete).
   * @throws {RangeError} When `id` is not a non-negative integer.
   */
  push(id: number): string {
    if (!Number.isInteger(id) || id < 0) {
      throw new RangeError(`Cannot detokenize: token id must be a non-negative integer, got ${id}`);
    }
    this.#ids.push(id);
    const prefixText = this.#decode(this.#prefixOffset, this.#readOffset);
    const newText = this.#decode(this.#prefixOffset, this.#ids.length);
    if (newText.length <= prefixText.length || newText.endsWith(REPLACEMENT)) return "";
    const delta = newText.slice(prefixText.length);
    this.#prefixOffset = this.#readOffset;
    this.#readOffset = this.#ids.length;
    this.#emitted += delta;
    return delta;
  }

  /**
   * Emits what is held back (an incomplete character comes out as U+FFFD) and ends the stream.
   * @returns The remaining text.
   */
  flush(): string {
    const prefixText = this.#decode(this.#prefixOffset, this.#readOffset);
    const newText = this.#decode(this.#prefixOffset, this.#ids.length);
    const delta = newText.slice(prefixText.length);
    this.#prefixOffset = this.#readOffset = this.#ids.length;
    this.#emitted += delta;
    return delta;
  }

  /** All text emitted so far. */
  get text(): string {
    return this.#emitted;
  }

  /** Number of ids pushed. */
  get tokenCount(): number {
    return this.#ids.length;
  }

  #decode(from: number, to: number): string {
    return from === to ? "" : this.#tokenizer.decode(this.#ids.slice(from, to), this.#options);
  }
}
