/** Atomic file writes: tmp file, fsync, rename. */
import { dirname } from "node:path";

/**
 * Write `text` to `path` atomically: a sibling `*.tmp` is written and fsync'd, then renamed
 * over the target, so readers see the old or the new file, never a partial one.
 *
 * @param path Target file; its folder is created when missing.
 * @param text Content.
 * @example
 * ```ts ignore
 * await writeFileAtomic("results/x.json", "{}");
 * ```
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  try {
    const bytes = new TextEncoder().encode(text);
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
    await file.sync();
  } finally {
    file.close();
  }
  await Deno.rename(tmp, path);
}
