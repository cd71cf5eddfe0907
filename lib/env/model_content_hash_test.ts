import assert from "node:assert/strict";
import { modelContentHash } from "./model_content_hash.ts";

function folder(weights: Uint8Array, extra?: string): string {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/config.json`, '{"model_type":"qwen2"}');
  Deno.writeFileSync(`${dir}/model.safetensors`, weights);
  if (extra) Deno.writeTextFileSync(`${dir}/${extra}`, "ignored");
  return dir;
}

Deno.test("modelContentHash is stable, ignores other files and sees every weight byte", async () => {
  const a = await modelContentHash(folder(new Uint8Array([1, 2, 3, 4])));
  assert.match(a, /^sha256:[0-9a-f]{64}$/);
  assert.equal(await modelContentHash(folder(new Uint8Array([1, 2, 3, 4]), "README.md")), a);
  assert.notEqual(await modelContentHash(folder(new Uint8Array([1, 2, 3, 5]))), a);
});

Deno.test("modelContentHash refuses a folder without weights", async () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(`${dir}/config.json`, "{}");
  await assert.rejects(() => modelContentHash(dir), /no \.safetensors file/);
});
