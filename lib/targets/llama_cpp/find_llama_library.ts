/** Where the llama.cpp libraries come from: a user's build folder or the pinned npm package. */
import { join } from "node:path";

/** The folder holding libllama and the ggml libraries, and where it came from. */
export interface LlamaLibraryLocation {
  dir: string;
  source: "npm" | "user";
  /** npm package and version when source is npm. */
  npmPackage?: string;
  npmVersion?: string;
}

/** The pinned platform package for this machine, or null when none is pinned for it. */
function platformPackage(): string | null {
  if (Deno.build.os === "linux" && Deno.build.arch === "x86_64") return "@node-llama-cpp/linux-x64";
  return null;
}

/** Import the platform package; one literal specifier per package so deno pins and locks it. */
async function importPackage(name: string): Promise<{ binsDir: string; packageVersion: string }> {
  switch (name) {
    case "@node-llama-cpp/linux-x64": {
      const m = await import("@node-llama-cpp/linux-x64");
      return m.getBinsDir();
    }
  }
  throw new Error(`Cannot load llama.cpp: no import for npm package ${name}`);
}

/** The first folder at or one level below `dir` that holds a libllama file. */
function libraryFolder(dir: string): string | null {
  const has = (d: string) => {
    try {
      return [...Deno.readDirSync(d)].some((e) =>
        /^(lib)?llama(\.[\w.]+)?\.(so|dylib|dll)$/.test(e.name)
      );
    } catch {
      return false;
    }
  };
  if (has(dir)) return dir;
  try {
    for (const e of Deno.readDirSync(dir)) {
      if (e.isDirectory && has(join(dir, e.name))) return join(dir, e.name);
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * Find the llama.cpp library folder: `dir` when given, else `$LMRIG_LLAMA_LIB`, else the pinned
 * npm platform package of node-llama-cpp (deno fetches it from the npm registry on first use).
 *
 * @param dir A user's llama.cpp build folder (holding libllama and libggml*), or undefined.
 * @returns The folder and its provenance.
 * @throws {Error} When the folder has no libllama, the platform has no pinned package, or the
 *   package cannot be fetched; the message names what to install or pass.
 * @example
 * ```ts
 * import { findLlamaLibrary } from "./find_llama_library.ts";
 * const loc = await findLlamaLibrary();
 * console.log(loc.dir, loc.npmPackage, loc.npmVersion);
 * ```
 */
export async function findLlamaLibrary(dir?: string): Promise<LlamaLibraryLocation> {
  const user = dir ?? Deno.env.get("LMRIG_LLAMA_LIB");
  if (user) {
    const found = libraryFolder(user);
    if (!found) {
      throw new Error(
        `Cannot load llama.cpp from "${user}": no libllama library there; pass the folder ` +
          `holding libllama and libggml* of a llama.cpp build (--llama-lib or LMRIG_LLAMA_LIB)`,
      );
    }
    return { dir: found, source: "user" };
  }
  const pkg = platformPackage();
  if (!pkg) {
    throw new Error(
      `Cannot load llama.cpp on ${Deno.build.os}-${Deno.build.arch}: no prebuilt package is ` +
        `pinned for this platform; build llama.cpp and pass its folder with --llama-lib DIR`,
    );
  }
  let bins: { binsDir: string; packageVersion: string };
  try {
    bins = await importPackage(pkg);
  } catch (e) {
    throw new Error(
      `Cannot load llama.cpp: npm package ${pkg} could not be fetched (${(e as Error).message}); ` +
        `run "deno install" with access to the npm registry, or pass --llama-lib DIR`,
    );
  }
  const found = libraryFolder(bins.binsDir);
  if (!found) {
    throw new Error(
      `Cannot load llama.cpp: npm package ${pkg}@${bins.packageVersion} has no libllama under ` +
        `"${bins.binsDir}"`,
    );
  }
  return { dir: found, source: "npm", npmPackage: pkg, npmVersion: bins.packageVersion };
}
