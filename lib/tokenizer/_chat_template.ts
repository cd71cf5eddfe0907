/** Renders Hugging Face chat templates (Jinja) with @huggingface/jinja. */
import { Template } from "@huggingface/jinja";
import type { ChatMessage, ChatTemplateOptions } from "./types.ts";

/** A renderer for `template`, or one that throws when the tokenizer has none. */
export function chatTemplateRenderer(
  template: string | null,
  specialTokens: Record<string, string | null>,
  source: string,
): (messages: readonly ChatMessage[], options?: ChatTemplateOptions) => string {
  if (template === null) {
    return () => {
      throw new TypeError(
        `Cannot apply a chat template for "${source}": the tokenizer has no chat template`,
      );
    };
  }
  let compiled: Template;
  try {
    compiled = new Template(template);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return () => {
      throw new TypeError(`Cannot apply the chat template of "${source}": ${reason}`);
    };
  }
  return (messages, options = {}) => {
    checkMessages(messages, source);
    return compiled.render({
      ...specialTokens,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      add_generation_prompt: options.addGenerationPrompt ?? true,
    });
  };
}

function checkMessages(messages: readonly ChatMessage[], source: string): void {
  if (!Array.isArray(messages)) {
    throw new TypeError(`Cannot apply the chat template of "${source}": messages must be an array`);
  }
  messages.forEach((m, i) => {
    if (typeof m?.role !== "string" || typeof m?.content !== "string") {
      throw new TypeError(
        `Cannot apply the chat template of "${source}": messages[${i}] needs string role and content`,
      );
    }
  });
}

/** The string form of a special token entry in tokenizer_config.json (string or AddedToken). */
export function tokenText(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object" && "content" in value) {
    const content = (value as { content: unknown }).content;
    return typeof content === "string" ? content : null;
  }
  return null;
}
