/** Field checks and defaults of prompts scenarios (texts, chat template, context lengths). */
import { BASE_FIELDS, type Fields } from "./_fields.ts";
import type { PromptsScenario } from "./types.ts";

const NAME = /^[A-Za-z0-9._-]+$/;
const NAME_TEXT = 'a name of letters, digits, ".", "_" or "-"';

/**
 * Validate the prompts fields of `o` and fill their defaults: chatTemplate true, no context
 * lengths.
 * @param f Field reader of the file.
 * @param o The declaration.
 * @param base The validated common fields.
 * @returns The prompts scenario.
 */
export function validatePrompts<B extends { name: string }>(
  f: Fields,
  o: Record<string, unknown>,
  base: B,
): B & PromptsScenario {
  f.known(o, "", [
    ...BASE_FIELDS,
    "prompts",
    "decodeTokens",
    "chatTemplate",
    "contextLengths",
    "contextLengthsCpu",
  ]);
  const list = f.array(o.prompts, "prompts").map((v, i) => {
    const p = `prompts[${i}]`;
    const po = f.object(v, p);
    f.known(po, p, ["id", "text"]);
    return {
      id: f.string(po.id, `${p}.id`, NAME, NAME_TEXT),
      text: f.string(po.text, `${p}.text`),
    };
  });
  f.unique(list.map((p) => p.id), "prompts", "id");
  if (o.chatTemplate !== undefined && typeof o.chatTemplate !== "boolean") {
    f.fail("chatTemplate", "true or false", o.chatTemplate);
  }
  const lengths = (key: string) =>
    o[key] === undefined
      ? undefined
      : f.array(o[key], key).map((v, i) => f.int(v, `${key}[${i}]`, 1, 1 << 20));
  const out: B & PromptsScenario = {
    ...base,
    kind: "prompts",
    prompts: list,
    decodeTokens: f.int(o.decodeTokens, "decodeTokens", 1, 1 << 20),
    chatTemplate: (o.chatTemplate as boolean | undefined) ?? true,
    contextLengths: lengths("contextLengths") ?? [],
  };
  const cpu = lengths("contextLengthsCpu");
  if (cpu) out.contextLengthsCpu = cpu;
  return out;
}
