/**
 * lmrig serve on the llama.cpp target (the pinned npm prebuilt) with the tiny synthetic model
 * converted to GGUF: greedy outputs over HTTP equal llama.cpp's in-process generate of the same
 * prompt (negative control: another prompt), concurrent requests share decode steps, streaming
 * carries the `lmrig` timings, and a disconnect frees the sequence.
 */
import assert from "node:assert/strict";
import { modelGguf } from "../lib/gguf/model_gguf.ts";
import { openLlamaCppTarget } from "../lib/targets/llama_cpp.ts";
import { startServer } from "../lib/serve/start_server.ts";
import { metrics, post, readSse, waitFor } from "./_serve.ts";

const MAX_CTX = 256;

Deno.test("lmrig serve --target llama.cpp: numerics, batching, disconnect", async () => {
  const { path } = await modelGguf("tiny-llama", { seed: 0 });
  const solo = async (prompt: number[], n: number) => {
    using t = await openLlamaCppTarget({ model: path, threads: 1, maxCtx: MAX_CTX });
    await t.prefill(0, prompt);
    const out = [t.sample(0).token];
    while (out.length < n) {
      await t.decode([0], [out[out.length - 1]]);
      out.push(t.sample(0).token);
    }
    return out;
  };
  const server = await startServer({
    target: "llama.cpp",
    model: "synthetic:tiny-llama",
    port: 0,
    maxSeqs: 3,
    maxCtx: MAX_CTX,
    threads: 1,
  });
  const base = server.baseUrl;
  try {
    assert.equal(server.model.target.name, "llama.cpp");
    const prompts = [[5, 6, 7, 8, 9], [100, 3, 250, 17], [42, 1, 400]];
    const n = 40;
    const ask = (prompt: number[], stream: boolean) =>
      post(`${base}/completions`, {
        prompt,
        max_tokens: n,
        temperature: 0,
        stream,
        return_token_ids: true,
      });
    const whole = await (await ask(prompts[0], false)).json();
    const want0 = await solo(prompts[0], n);
    assert.deepEqual(whole.choices[0].token_ids, want0);
    assert.notDeepEqual(await solo(prompts[1], n), want0, "negative control: another prompt");
    assert.ok(whole.lmrig.prefill_ms > 0 && whole.lmrig.tokens === n);

    const before = await metrics(base);
    const streams = await Promise.all(prompts.map(async (p) => readSse(await ask(p, true))));
    for (let i = 0; i < prompts.length; i++) {
      const got = streams[i].events.flatMap((e) =>
        (e.choices as { token_ids: number[] }[])[0].token_ids
      );
      assert.deepEqual(got, await solo(prompts[i], n), `request ${i}`);
      assert.equal(
        streams[i].events.at(-1)!.lmrig &&
          (streams[i].events.at(-1)!.lmrig as { tokens: number }).tokens,
        n,
      );
    }
    const after = await metrics(base);
    assert.ok(after.lmrig_decode_batch_max >= 2, `batch max ${after.lmrig_decode_batch_max}`);
    assert.ok(
      after.lmrig_decode_steps_total - before.lmrig_decode_steps_total < 3 * (n - 1),
      "the three requests shared decode steps",
    );

    const res = await post(`${base}/completions`, {
      prompt: [9, 9],
      max_tokens: MAX_CTX - 2,
      ignore_eos: true,
      temperature: 0,
      stream: true,
    });
    await readSse(res, (_e, i) => i === 1);
    assert.ok(await waitFor(async () => (await metrics(base)).lmrig_active_sequences === 0, 2000));
    const t = server.model.target;
    for (let s = 0; s < t.maxSeqs; s++) assert.equal(t.seqLen(s), 0);
  } finally {
    await server.shutdown(1000);
  }
});
