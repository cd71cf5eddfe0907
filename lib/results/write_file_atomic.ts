/** Atomic file writes: tmp file, fsync, rename. */
import { dirname } from "node:path";

/**
 * Write `text` to `path` atomically: a sibling `*.tmp` is written and fsync'd, then renamed
 * over the target, so readers see the old or the new file, never a partial one.
 *
 * @param path Target file: a regular file or a new path (anything else is refused, so a
 *   rename never replaces a device node, a folder or a symbolic link); its folder is created
 *   when missing.
 * @param content Text (written as UTF-8) or bytes.
 * @returns Once the file is in place.
 * @throws {TypeError} When the target exists and is not a regular file.
 * @throws {Error} When the folder, the temporary file or the rename
 *   fails; the temporary file is removed first, so a failed write leaves the target as it was.
 * @example
 * ```ts
 * import { writeFileAtomic } from "./write_file_atomic.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/sub/x.json`, "{}");
 * if (await Deno.readTextFile(`${dir}/sub/x.json`) !== "{}") throw new Error("not written");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  try {
    const info = await Deno.lstat(path);
    if (!info.isFile) {
      throw new TypeError(
        `Cannot write "${path}": it is not a regular file (${
          info.isDirectory ? "a folder" : info.isSymlink ? "a symbolic link" : "a device or FIFO"
        }); only a regular file or a new path is replaced`,
      );
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
      let off = 0;
      while (off < bytes.length) off += await file.write(bytes.subarray(off));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {}); // best effort: the original error is what matters
    throw e;
  }
}
