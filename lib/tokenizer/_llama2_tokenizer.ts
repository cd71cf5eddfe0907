/**
 * A TextTokenizer for the Llama 2 SentencePiece vocabulary (32000 tokens, the one TinyLlama
 * ships), run by llama-tokenizer-js, which bundles the vocabulary and merges.
 */
import llamaTokenizer from "llama-tokenizer-js";
import { chatTemplateRenderer } from "./_chat_template.ts";
import type { TextTokenizer } from "./types.ts";

const VOCAB_SIZE = 32000;
const SPECIAL_IDS = new Set([0, 1, 2]); // <unk>, <s>, </s>

/** TinyLlama-1.1B-Chat-v1.0's chat template (Zephyr style), from its tokenizer_config.json. */
const TINYLLAMA_CHAT_TEMPLATE = "{% for message in messages %}\n" +
  "{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n" +
  "{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n" +
  "{% elif message['role'] == 'assistant' %}\n" +
  "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n" +
  "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

/** The bundled Llama 2 tokenizer, described as standing in for `source`. */
export function llama2Tokenizer(source: string, notes: readonly string[]): TextTokenizer {
  const render = chatTemplateRenderer(
    TINYLLAMA_CHAT_TEMPLATE,
    { bos_token: "<s>", eos_token: "</s>", unk_token: "<unk>", pad_token: null },
    source,
  );
  return {
    name: "Llama 2 SentencePiece BPE, 32000 tokens (bundled with llama-tokenizer-js)",
    source,
    vocabSize: VOCAB_SIZE,
    notes,
    hasChatTemplate: true,
    encode: (text, options = {}) => {
      if (typeof text !== "string") {
        throw new TypeError(`Cannot encode with "${source}": text must be a string`);
      }
      // llama-tokenizer-js encodes "" as [] even with BOS; Hugging Face gives [BOS].
      if (text === "") return options.addSpecialTokens ?? true ? [1] : [];
      return llamaTokenizer.encode(text, options.addSpecialTokens ?? true, true, false);
    },
    decode: (ids, options = {}) => {
      for (const id of ids) {
        if (!Number.isInteger(id) || id < 0 || id >= VOCAB_SIZE) {
          throw new RangeError(
            `Cannot decode with "${source}": token id ${id} is not in [0, 32000)`,
          );
        }
      }
      const kept = options.skipSpecialTokens ? ids.filter((id) => !SPECIAL_IDS.has(id)) : [...ids];
      return llamaTokenizer.decode(kept, false, true);
    },
    applyChatTemplate: render,
  };
}
