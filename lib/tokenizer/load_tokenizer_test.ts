import assert from "node:assert/strict";
import { join } from "node:path";
import { loadTokenizer } from "./load_tokenizer.ts";
import { createWhitespaceTokenizer } from "./create_whitespace_tokenizer.ts";

const PROMPTS = [
  "Hello world",
  "The quick brown fox jumps over the lazy dog.",
  "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
  "你好，世界！今天天气很好。",
  "日本語のテキストと한국어 텍스트",
  "I ❤️ 🦀 emojis 👩‍👩‍👧 and flags 🇯🇵",
  "  two  spaces,\ttabs\n\nand newlines ",
];

const qwen = await loadTokenizer("synthetic:qwen2.5-1.5b");
const llama = await loadTokenizer("synthetic:tinyllama-1.1b");

Deno.test("Qwen preset: ids of the real Qwen tokenizer", () => {
  assert.deepEqual(qwen.encode("Hello world"), [9707, 1879]);
  assert.deepEqual(qwen.encode("你好，世界"), [108386, 3837, 99489]);
  assert.deepEqual(qwen.encode("<|im_start|>user\nhi<|im_end|>"), [151644, 872, 198, 6023, 151645]);
  // Counts computed once with this tokenizer; another vocabulary gives other counts.
  assert.deepEqual(PROMPTS.map((p) => qwen.encode(p).length), [2, 10, 26, 8, 13, 21, 12]);
  assert.equal(qwen.vocabSize, 151669);
  assert.equal(qwen.hasChatTemplate, true);
});

Deno.test("Llama presets: ids of the real Llama 2 tokenizer, with BOS", () => {
  assert.deepEqual(llama.encode("Hello world"), [1, 15043, 3186]);
  assert.deepEqual(llama.encode("Hello world", { addSpecialTokens: false }), [15043, 3186]);
  assert.deepEqual(PROMPTS.map((p) => llama.encode(p).length), [3, 13, 32, 19, 20, 41, 14]);
  assert.equal(llama.vocabSize, 32000);
  assert.equal(llama.decode([1, 15043, 3186]), "<s> Hello world");
});

Deno.test("round trip: decode(encode(text)) is the text", () => {
  for (const tok of [qwen, llama]) {
    for (const p of PROMPTS) {
      assert.equal(tok.decode(tok.encode(p), { skipSpecialTokens: true }), p, `${tok.name}: ${p}`);
    }
  }
});

Deno.test("chat templates render the model's prompt format", () => {
  const messages = [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }];
  assert.equal(
    qwen.applyChatTemplate(messages),
    "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n" +
      "<|im_start|>assistant\n",
  );
  assert.equal(
    llama.applyChatTemplate(messages, { addGenerationPrompt: false }),
    "<|system|>\nBe brief.</s>\n<|user|>\nhi</s>\n",
  );
  assert.throws(
    () => qwen.applyChatTemplate([{ role: "user" } as never]),
    /messages\[0\] needs string role and content/,
  );
});

Deno.test("a Hugging Face folder: tokenizer.json and tokenizer_config.json", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A word-level tokenizer.json small enough to write by hand.
    const tokenizerJson = {
      version: "1.0",
      added_tokens: [{
        id: 3,
        content: "</s>",
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      }],
      normalizer: null,
      pre_tokenizer: { type: "WhitespaceSplit" },
      post_processor: null,
      decoder: null,
      model: {
        type: "WordLevel",
        vocab: { "[UNK]": 0, hello: 1, world: 2, "</s>": 3 },
        unk_token: "[UNK]",
      },
    };
    await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson));
    const noConfig = await loadTokenizer(dir);
    assert.deepEqual(noConfig.encode("hello  world hello"), [1, 2, 1]);
    assert.equal(noConfig.vocabSize, 4);
    assert.equal(noConfig.hasChatTemplate, false);
    assert.throws(() => noConfig.applyChatTemplate([]), /has no chat template/);
    await Deno.writeTextFile(
      join(dir, "tokenizer_config.json"),
      JSON.stringify({
        eos_token: "</s>",
        chat_template:
          "{% for m in messages %}[{{ m.role }}] {{ m.content }}{{ eos_token }}{% endfor %}",
      }),
    );
    const withConfig = await loadTokenizer(dir);
    assert.equal(
      withConfig.applyChatTemplate([{ role: "user", content: "hello" }]),
      "[user] hello</s>",
    );
    await Deno.writeTextFile(join(dir, "tokenizer_config.json"), "{ not json");
    await assert.rejects(() => loadTokenizer(dir), /tokenizer_config\.json is not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad specs are reported clearly", async () => {
  await assert.rejects(() => loadTokenizer("synthetic:gpt-9"), /unknown preset, expected one of/);
  await assert.rejects(
    () => loadTokenizer("/nonexistent/model"),
    /tokenizer\.json: file not found/,
  );
  await assert.rejects(() => loadTokenizer(""), TypeError);
});

Deno.test("whitespace tokenizer counts words", () => {
  const tok = createWhitespaceTokenizer();
  assert.deepEqual(tok.encode("  to be\tor not\nto be "), [0, 1, 2, 3, 0, 1]);
  assert.equal(tok.decode([3, 1]), "not be");
  assert.equal(tok.vocabSize, 4);
  assert.throws(() => tok.decode([9]), /token id 9 was never encoded/);
});
