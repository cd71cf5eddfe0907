/** Where the lmrig shared library is looked for. */
import { join } from "node:path";
import { repoRoot } from "../env/repo_root.ts";

/**
 * The path of the lmrig library: `$LMRIG_LIB` when set, else `<repo>/build/liblmrig.so`
 * (`liblmrig.dylib` on macOS, `lmrig.dll` on Windows). The file need not exist; loading it
 * reports a missing file.
 *
 * @param buildDir The build folder relative to the repository root (default "build").
 * @returns The path.
 * @throws Nothing; whether the file exists is checked by loadLibrary.
 * @example
 * ```ts
 * import { findLibrary } from "./find_library.ts";
 * const path = findLibrary(); // ".../build/liblmrig.so"
 * ```
 */
export function findLibrary(buildDir = "build"): string {
  const fromEnv = Deno.env.get("LMRIG_LIB");
  if (fromEnv) return fromEnv;
  const os = Deno.build.os;
  const file = os === "darwin" ? "liblmrig.dylib" : os === "windows" ? "lmrig.dll" : "liblmrig.so";
  return join(repoRoot(), buildDir, file);
}
