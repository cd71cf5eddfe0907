/** Where the llama.cpp libraries come from: a user's build folder or the pinned npm package. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../env/repo_root.ts";
import {
  LLAMA_BACKENDS,
  type LlamaBackend,
  type LlamaPackage,
  llamaPackageFor,
} from "./llama_package_for.ts";

/** The folder holding libllama and the ggml libraries, and where it came from. */
export interface LlamaLibraryLocation {
  dir: string;
  source: "npm" | "user";
  /** npm package and version when source is npm. */
  npmPackage?: string;
  npmVersion?: string;
  /** The backend asked for (`cpu` for a user's build unless named). */
  backend: LlamaBackend;
}

/**
 * Import a platform package and ask it for its bins folder. The default linux-x64 CPU package is
 * a literal import listed in deno.json, so deno.lock pins its integrity and deno installs it with
 * the other dependencies. Every other package is imported by a computed `npm:` specifier of its
 * exact version: deno fetches it on this first import only (deno 2.9.5 installs every package
 * that deno.json or a literal import names on the first run of anything, which would fetch the
 * 143 MB CUDA package on every machine); deno checks it against the registry's integrity then
 * and records it in deno.lock.
 */
async function importPackage(
  pkg: LlamaPackage,
): Promise<{ binsDir: string; packageVersion: string }> {
  if (pkg.name === "@node-llama-cpp/linux-x64") {
    return (await import("@node-llama-cpp/linux-x64")).getBinsDir();
  }
  const installed = join(
    repoRoot(),
    "node_modules",
    ".deno",
    `${pkg.name.replace("/", "+")}@${pkg.version}`,
  );
  if (!existsSync(installed)) {
    console.error(
      `llama.cpp: fetching ${pkg.name}@${pkg.version} (${pkg.backend}, about ${pkg.downloadMb} MB) ` +
        `from the npm registry, once`,
    );
  }
  const spec = `npm:${pkg.name}@${pkg.version}`;
  return (await import(spec)).getBinsDir();
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
 * npm platform package of node-llama-cpp for this platform and `backend` (deno fetches it from the
 * npm registry on first use, with a progress line on stderr).
 *
 * @param dir A user's llama.cpp build folder (holding libllama and libggml*), or undefined.
 * @param backend `cpu`, `cuda`, `vulkan` or `metal`; default `$LMRIG_LLAMA_BACKEND`, else metal
 *   on macOS arm64 and cpu elsewhere. With a user's build it only names what the build is for.
 * @returns The folder and its provenance.
 * @throws {Error} When the folder has no libllama, no package is bound for the platform and
 *   backend, or the package cannot be fetched; the message names what to install or pass.
 * @example
 * ```ts
 * import { findLlamaLibrary } from "./find_llama_library.ts";
 * const loc = await findLlamaLibrary(undefined, "cpu");
 * console.log(loc.dir, loc.npmPackage, loc.npmVersion, loc.backend);
 * ```
 */
export async function findLlamaLibrary(
  dir?: string,
  backend?: string,
): Promise<LlamaLibraryLocation> {
  const user = dir ?? Deno.env.get("LMRIG_LLAMA_LIB");
  if (user) {
    const found = libraryFolder(user);
    if (!found) {
      throw new Error(
        `Cannot load llama.cpp from "${user}": no libllama library there; pass the folder ` +
          `holding libllama and libggml* of a llama.cpp build (--llama-lib or LMRIG_LLAMA_LIB)`,
      );
    }
    const b = backend ?? Deno.env.get("LMRIG_LLAMA_BACKEND") ?? "cpu";
    return { dir: found, source: "user", backend: llamaBackendName(b) };
  }
  const pkg = llamaPackageFor(backend);
  let bins: { binsDir: string; packageVersion: string };
  try {
    bins = await importPackage(pkg);
  } catch (e) {
    throw new Error(
      `Cannot load llama.cpp: npm package ${pkg.name}@${pkg.version} could not be fetched ` +
        `(${(e as Error).message}); run with access to the npm registry, or pass --llama-lib DIR`,
    );
  }
  const found = libraryFolder(bins.binsDir);
  if (!found) {
    throw new Error(
      `Cannot load llama.cpp: npm package ${pkg.name}@${bins.packageVersion} has no libllama ` +
        `under "${bins.binsDir}"`,
    );
  }
  return {
    dir: found,
    source: "npm",
    npmPackage: pkg.name,
    npmVersion: bins.packageVersion,
    backend: pkg.backend,
  };
}

function llamaBackendName(b: string): LlamaBackend {
  if (!(LLAMA_BACKENDS as readonly string[]).includes(b)) {
    throw new RangeError(`Unknown llama.cpp backend "${b}": expected ${LLAMA_BACKENDS.join(", ")}`);
  }
  return b as LlamaBackend;
}
