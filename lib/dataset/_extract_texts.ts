/** Finds the prompt and output texts in one record, by named fields or by its shape. */
import type { DatasetShape } from "./types.ts";

/** The texts of a record, or why it has none. */
export type Extracted =
  | { shape: DatasetShape; prompt: string; output: string | null }
  | { error: string };

const PROMPT_FIELDS = ["prompt", "question", "text", "input"];
const OUTPUT_FIELDS = ["output", "response", "completion", "answer"];
const HUMAN = new Set(["human", "user"]);
const ASSISTANT = new Set(["gpt", "assistant", "chatgpt"]);

/**
 * Shapes, tried in order: named fields; ShareGPT `{conversations: [{from, value}]}` (first human
 * turn, first gpt turn after it); OpenAI `{messages: [{role, content}]}` (same rule); Alpaca
 * `{instruction, input, output}` (prompt = instruction, plus "\n\n" + input when input is not
 * empty); a prompt field (prompt, question, text, input) with an optional output field
 * (output, response, completion, answer).
 */
export function extractTexts(
  value: unknown,
  promptField?: string,
  outputField?: string,
): Extracted {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { error: `expected an object, got ${kind(value)}` };
  }
  const obj = value as Record<string, unknown>;
  if (promptField !== undefined) {
    const prompt = stringField(obj, promptField);
    if (typeof prompt !== "string") return { error: prompt.error };
    if (outputField === undefined) return { shape: "fields", prompt, output: null };
    const output = stringField(obj, outputField);
    if (typeof output !== "string") return { error: output.error };
    return { shape: "fields", prompt, output };
  }
  if ("conversations" in obj) return turns(obj.conversations, "conversations", "from", "value");
  if ("messages" in obj) return turns(obj.messages, "messages", "role", "content");
  if ("instruction" in obj) {
    const instruction = stringField(obj, "instruction");
    if (typeof instruction !== "string") return { error: instruction.error };
    const input = "input" in obj ? stringField(obj, "input") : "";
    if (typeof input !== "string") return { error: input.error };
    const output = stringField(obj, "output");
    if (typeof output !== "string") return { error: output.error };
    const prompt = input === "" ? instruction : `${instruction}\n\n${input}`;
    return { shape: "alpaca", prompt, output };
  }
  const p = PROMPT_FIELDS.find((f) => f in obj);
  if (p === undefined) {
    return {
      error: `no known shape: expected conversations, messages, instruction or one of ` +
        `${PROMPT_FIELDS.join(", ")} (or name fields with --prompt-field)`,
    };
  }
  const prompt = stringField(obj, p);
  if (typeof prompt !== "string") return { error: prompt.error };
  const o = OUTPUT_FIELDS.find((f) => f in obj && f !== p);
  if (o === undefined) return { shape: "prompt-output", prompt, output: null };
  const output = stringField(obj, o);
  if (typeof output !== "string") return { error: output.error };
  return { shape: "prompt-output", prompt, output };
}

function turns(list: unknown, key: string, speaker: string, text: string): Extracted {
  const shape = key === "conversations" ? "sharegpt" : "openai-messages";
  if (!Array.isArray(list)) return { error: `field "${key}" is ${kind(list)}, expected an array` };
  let prompt: string | null = null;
  for (let i = 0; i < list.length; i++) {
    const turn = list[i];
    if (turn === null || typeof turn !== "object") {
      return { error: `${key}[${i}] is ${kind(turn)}, expected an object` };
    }
    const who = (turn as Record<string, unknown>)[speaker];
    const said = stringField(turn as Record<string, unknown>, text, `${key}[${i}].`);
    if (typeof said !== "string") return { error: said.error };
    if (typeof who !== "string") {
      return { error: `${key}[${i}].${speaker} is ${kind(who)}, expected a string` };
    }
    if (prompt === null && HUMAN.has(who)) prompt = said;
    else if (prompt !== null && ASSISTANT.has(who)) return { shape, prompt, output: said };
  }
  return {
    error: prompt === null
      ? `${key} has no ${[...HUMAN].join("/")} turn`
      : `${key} has no ${[...ASSISTANT].join("/")} turn after the first ${
        [...HUMAN].join("/")
      } turn`,
  };
}

function stringField(
  obj: Record<string, unknown>,
  field: string,
  prefix = "",
): string | { error: string } {
  if (!(field in obj)) return { error: `missing field "${prefix}${field}"` };
  const v = obj[field];
  return typeof v === "string"
    ? v
    : { error: `field "${prefix}${field}" is ${kind(v)}, expected a string` };
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}
