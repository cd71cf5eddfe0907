/** A whitespace tokenizer: one token per word. Exact and fast, for tests and quick estimates. */
import { chatTemplateRenderer } from "./_chat_template.ts";
import type { TextTokenizer } from "./types.ts";

/**
 * A tokenizer that makes one token of each run of non-space characters. Ids are handed out in
 * order of first sight, so they depend on what was encoded before; decode joins words with one
 * space. It has no chat template.
 *
 * @returns A fresh tokenizer with an empty vocabulary (it takes no parameters).
 * @throws Nothing itself; its encode throws TypeError on a non-string, decode RangeError on an id
 *   it never handed out, and applyChatTemplate TypeError (no template).
 * @example
 * ```ts
 * import { createWhitespaceTokenizer } from "./create_whitespace_tokenizer.ts";
 * const tok = createWhitespaceTokenizer();
 * tok.encode("to be or not to be"); // [0, 1, 2, 3, 0, 1]
 * tok.decode([3, 1]); // "not be"
 * ```
 */
export function createWhitespaceTokenizer(): TextTokenizer {
  const idsByWord = new Map<string, number>();
  const words: string[] = [];
  const source = "whitespace";
  return {
    name: "whitespace (one token per word)",
    source,
    get vocabSize() {
      return words.length;
    },
    notes: ["Counts words, not model tokens"],
    hasChatTemplate: false,
    encode(text) {
      if (typeof text !== "string") {
        throw new TypeError(`Cannot encode with "whitespace": text must be a string`);
      }
      return text.split(/\s+/).filter((w) => w !== "").map((w) => {
        let id = idsByWord.get(w);
        if (id === undefined) {
          id = words.length;
          idsByWord.set(w, id);
          words.push(w);
        }
        return id;
      });
    },
    decode(ids) {
      return ids.map((id) => {
        const word = words[id];
        if (word === undefined) {
          throw new RangeError(`Cannot decode with "whitespace": token id ${id} was never encoded`);
        }
        return word;
      }).join(" ");
    },
    applyChatTemplate: chatTemplateRenderer(null, {}, source),
  };
}
