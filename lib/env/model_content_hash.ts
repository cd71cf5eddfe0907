/** Content hash of a Hugging Face model folder or a GGUF file, so records of real models name
 * their exact weights. */
import { createHash } from "node:crypto";
import { join } from "node:path";

/** Files that define a model's numerics: the config and every safetensors file or index. */
const isModelFile = (name: string) =>
  name === "config.json" || name.endsWith(".safetensors") ||
  name === "model.safetensors.index.json";

async function fileHash(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = Deno.openSync(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return `sha256:${hash.digest("hex")}`;
}

const statOrNull = (path: string): Deno.FileInfo | null => {
  try {
    return Deno.statSync(path);
  } catch {
    return null; // a dangling link
  }
};

/**
 * SHA-256 over the folder's config.json, model.safetensors.index.json and *.safetensors files, in
 * name order (symlinks followed, as in a Hugging Face hub cache snapshot), each contributing its
 * name, its byte length and its bytes (streamed, so a 3 GB model
 * takes a few seconds; call it after timing the load so the hash does not warm the page cache
 * first).
 *
 * A GGUF file (or a folder without config.json holding one, as the engine loads it) hashes as
 * the SHA-256 of the file's bytes, the hash the llama.cpp target records for the same file.
 *
 * @param dir A Hugging Face model folder, a .gguf file or a folder holding one .gguf file.
 * @returns `"sha256:<hex>"`.
 * @throws {Error} When the folder cannot be read or holds no safetensors or GGUF file.
 * @example
 * ```ts
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/config.json`, "{}");
 * Deno.writeFileSync(`${dir}/model.safetensors`, new Uint8Array(8));
 * const hash = await modelContentHash(dir);
 * if (!hash.startsWith("sha256:")) throw new Error(hash);
 * ```
 */
export async function modelContentHash(dir: string): Promise<string> {
  if (Deno.statSync(dir).isFile) return await fileHash(dir);
  const ggufs = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".gguf"));
  if (ggufs.length === 1 && statOrNull(join(dir, "config.json")) === null) {
    return await fileHash(join(dir, ggufs[0].name));
  }
  // A Hugging Face hub snapshot holds symlinks into ../../blobs/: follow them (statSync does),
  // keeping only what leads to a regular file (never a FIFO, which would block the read).
  const names = [...Deno.readDirSync(dir)]
    .filter((e) => (e.isFile || e.isSymlink) && isModelFile(e.name))
    .filter((e) => e.isFile || statOrNull(join(dir, e.name))?.isFile === true)
    .map((e) => e.name)
    .sort();
  if (!names.some((n) => n.endsWith(".safetensors"))) {
    throw new Error(`Cannot hash model folder "${dir}": no .safetensors file`);
  }
  const hash = createHash("sha256");
  for (const name of names) {
    const path = join(dir, name);
    const size = Deno.statSync(path).size;
    hash.update(`${name}\0${size}\0`);
    using file = Deno.openSync(path);
    for await (const chunk of file.readable) hash.update(chunk);
  }
  return `sha256:${hash.digest("hex")}`;
}
