/** A TextTokenizer over a Hugging Face tokenizer.json, run by @huggingface/tokenizers. */
import { Tokenizer } from "@huggingface/tokenizers";
import { chatTemplateRenderer, tokenText } from "./_chat_template.ts";
import type { TextTokenizer } from "./types.ts";

/** Parsed tokenizer.json and tokenizer_config.json of one model. */
export interface HfTokenizerFiles {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
}

/** Wraps parsed tokenizer files; `name`, `source` and `notes` describe where they came from. */
export function hfTokenizer(
  files: HfTokenizerFiles,
  name: string,
  source: string,
  notes: readonly string[] = [],
): TextTokenizer {
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(files.tokenizerJson, files.tokenizerConfig);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new TypeError(`Cannot build the tokenizer of "${source}": ${reason}`);
  }
  const config = files.tokenizerConfig;
  const template = typeof config.chat_template === "string" ? config.chat_template : null;
  const special: Record<string, string | null> = {};
  for (const key of ["bos_token", "eos_token", "pad_token", "unk_token"]) {
    special[key] = tokenText(config[key]);
  }
  let maxId = -1;
  for (const id of tok.get_vocab(true).values()) maxId = Math.max(maxId, id);
  const render = chatTemplateRenderer(template, special, source);
  return {
    name,
    source,
    vocabSize: maxId + 1,
    notes,
    hasChatTemplate: template !== null,
    encode: (text, options = {}) => {
      if (typeof text !== "string") {
        throw new TypeError(`Cannot encode with "${source}": text must be a string`);
      }
      const ids = tok.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
      const bad = ids.findIndex((id) => !Number.isInteger(id));
      if (bad >= 0) {
        throw new TypeError(`Cannot encode with "${source}": token ${bad} of the text has no id`);
      }
      return ids;
    },
    decode: (ids, options = {}) =>
      tok.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false }),
    applyChatTemplate: render,
  };
}
