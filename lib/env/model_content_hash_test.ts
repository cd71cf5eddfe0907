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

Deno.test("modelContentHash follows a hub snapshot's symlinks into blobs/ and skips FIFOs", async () => {
  const plain = folder(new Uint8Array([9, 8, 7, 6]));
  const want = await modelContentHash(plain);
  // models--org--name/{blobs/<sha>, snapshots/<rev>/{config.json,model.safetensors} -> blobs}
  const repo = Deno.makeTempDirSync();
  Deno.mkdirSync(`${repo}/blobs`);
  Deno.mkdirSync(`${repo}/snapshots/abc`, { recursive: true });
  Deno.copyFileSync(`${plain}/config.json`, `${repo}/blobs/1111`);
  Deno.copyFileSync(`${plain}/model.safetensors`, `${repo}/blobs/2222`);
  Deno.symlinkSync("../../blobs/1111", `${repo}/snapshots/abc/config.json`);
  Deno.symlinkSync("../../blobs/2222", `${repo}/snapshots/abc/model.safetensors`);
  assert.equal(await modelContentHash(`${repo}/snapshots/abc`), want);
  // A dangling link or a FIFO with a model file's name is left out, never read.
  Deno.symlinkSync("../../blobs/missing", `${repo}/snapshots/abc/extra.safetensors`);
  const mk = new Deno.Command("mkfifo", { args: [`${repo}/snapshots/abc/x.safetensors`] });
  assert.ok((await mk.output()).success);
  assert.equal(await modelContentHash(`${repo}/snapshots/abc`), want);
});
