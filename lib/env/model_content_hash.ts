/** Content hash of a Hugging Face model folder, so records of real models name their exact weights. */
import { createHash } from "node:crypto";
import { join } from "node:path";

/** Files that define a model's numerics: the config and every safetensors file or index. */
const isModelFile = (name: string) =>
  name === "config.json" || name.endsWith(".safetensors") ||
  name === "model.safetensors.index.json";

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
 * @param dir A Hugging Face model folder.
 * @returns `"sha256:<hex>"`.
 * @throws {Error} When the folder cannot be read or holds no safetensors file.
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
