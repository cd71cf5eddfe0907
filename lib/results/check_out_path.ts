/** Check an output path before any work is done: a new path or a regular file, writable. */
import { dirname, resolve } from "node:path";

/**
 * Check that `path` can take an atomic write (a temporary sibling renamed over it): the path is
 * not empty, and is either a regular file or does not exist yet; its folder exists (or can be
 * created) and accepts a new file. Call it before loading a model or measuring anything, so a
 * bad `--out` is refused in seconds, not after the run. Leaves nothing behind but the folder.
 *
 * @param path The output path, e.g. the value of `--out`.
 * @param what What the path is for, in messages (e.g. "--out").
 * @returns The absolute path.
 * @throws {TypeError} `Cannot write <what> "<path>": <why>` when the path is empty, a folder,
 *   a device, FIFO, socket or symbolic link, or its folder is missing or not writable.
 * @example
 * ```ts
 * import { checkOutPath } from "./check_out_path.ts";
 * const dir = await Deno.makeTempDir();
 * checkOutPath(`${dir}/run.json`, "--out"); // fine: a new path
 * try {
 *   checkOutPath(dir, "--out");
 * } catch (e) {
 *   console.log((e as Error).message); // Cannot write --out "...": it is a folder, not a file
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function checkOutPath(path: string, what: string): string {
  const fail = (why: string): never => {
    throw new TypeError(`Cannot write ${what} "${path}": ${why}`);
  };
  if (path.trim() === "") fail("the path is empty");
  if (path.endsWith("/")) fail("it names a folder, not a file");
  const abs = resolve(path);
  let info: Deno.FileInfo | null = null;
  try {
    info = Deno.lstatSync(abs);
  } catch (e) {
    if (e instanceof Deno.errors.NotADirectory) fail("a part of its folder path is a file");
    if (!(e instanceof Deno.errors.NotFound)) {
      fail(`it cannot be inspected (${(e as Error).message})`);
    }
  }
  if (info !== null) {
    if (info.isDirectory) fail("it is a folder, not a file");
    if (info.isSymlink) fail("it is a symbolic link (give the file it points to)");
    if (!info.isFile) {
      fail("it is not a regular file (a device, FIFO or socket); write to a file instead");
    }
  }
  const dir = dirname(abs);
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (e) {
    fail(`its folder cannot be created (${(e as Error).message})`);
  }
  const probe = `${abs}.${Deno.pid}.check.tmp`;
  try {
    Deno.writeFileSync(probe, new Uint8Array(0), { createNew: true });
  } catch (e) {
    const why = e instanceof Deno.errors.PermissionDenied
      ? "its folder is not writable"
      : `its folder does not accept a new file (${(e as Error).message})`;
    fail(why);
  }
  Deno.removeSync(probe);
  return abs;
}
