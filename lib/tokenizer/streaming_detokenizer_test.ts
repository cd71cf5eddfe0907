import assert from "node:assert/strict";
import { loadTokenizer } from "./load_tokenizer.ts";
import { StreamingDetokenizer } from "./streaming_detokenizer.ts";

const TEXTS = [
  "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
  "你好，世界！今天天气很好。日本語のテキストと한국어 텍스트",
  "I ❤️ 🦀 emojis 👩‍👩‍👧 and flags 🇯🇵 ",
  "  leading spaces and\ttabs\n\n",
];

const tokenizers = [
  await loadTokenizer("synthetic:qwen2.5-0.5b"),
  await loadTokenizer("synthetic:tiny-llama"),
];

Deno.test("streamed deltas join to the full decode, special tokens kept or skipped", () => {
  for (const tok of tokenizers) {
    for (const text of TEXTS) {
      for (const skipSpecialTokens of [false, true]) {
        const ids = tok.encode(text);
        const detok = new StreamingDetokenizer(tok, { skipSpecialTokens });
        const deltas = ids.map((id) => detok.push(id));
        deltas.push(detok.flush());
        const full = tok.decode(ids, { skipSpecialTokens });
        assert.equal(deltas.join(""), full, `${tok.name}: ${text}`);
        assert.equal(detok.text, full);
        assert.equal(detok.tokenCount, ids.length);
        // No delta ends inside a character: each is valid text without U+FFFD.
        for (const d of deltas) {
          assert.ok(!d.includes("\uFFFD"), `${tok.name}: ${JSON.stringify(d)}`);
        }
      }
    }
  }
});

Deno.test("a character split over byte tokens is held back until complete", () => {
  const llama = tokenizers[1];
  // 🦀 is U+1F980: four byte-fallback tokens <0xF0> <0x9F> <0xA6> <0x80> (ids 243 162 169 131).
  const ids = llama.encode("🦀", { addSpecialTokens: false });
  assert.deepEqual(ids, [29871, 243, 162, 169, 131]);
  const detok = new StreamingDetokenizer(llama);
  assert.deepEqual(ids.map((id) => detok.push(id)), ["", "", "", "", "🦀"]);
  assert.equal(detok.flush(), "");
});

Deno.test("flush emits an incomplete character as U+FFFD", () => {
  const detok = new StreamingDetokenizer(tokenizers[1]);
  assert.equal(detok.push(243), "");
  assert.equal(detok.push(162), "");
  assert.equal(detok.flush(), "\uFFFD");
  assert.throws(() => detok.push(-1), /must be a non-negative integer, got -1/);
});
