/**
 * The prebuilt platform packages of node-llama-cpp this binding loads, by platform and ggml
 * backend, and the choice of one for this process.
 */

/** The ggml compute backend a prebuilt package brings (its CPU variants come with every one). */
export type LlamaBackend = "cpu" | "cuda" | "vulkan" | "metal";

/** Every backend name `--llama-backend` and `$LMRIG_LLAMA_BACKEND` accept. */
export const LLAMA_BACKENDS: readonly LlamaBackend[] = ["cpu", "cuda", "vulkan", "metal"];

/** One pinned npm package. */
export interface LlamaPackage {
  name: string;
  /** The exact node-llama-cpp version (its llama.cpp release is in RELEASES). */
  version: string;
  /** `Deno.build.os` and `Deno.build.arch` it runs on. */
  os: string;
  arch: string;
  backend: LlamaBackend;
  /** The tarball's size in MB, for the progress line of a first fetch. */
  downloadMb: number;
}

/**
 * The bound packages. Linux ones at 3.22.1 (llama.cpp v0.5.0); the macOS ones exist only up to
 * 3.21.1 (v0.4.0), as do the Windows ones, which this binding does not load (its loader opens
 * `lib*.so`/`.dylib` files and libc's clock). `npm view @node-llama-cpp/<name> versions` lists
 * what exists; sizes are `npm pack` tarballs measured here, CUDA's as reported in issue 13.
 */
export const LLAMA_PACKAGES: readonly LlamaPackage[] = [
  p("@node-llama-cpp/linux-x64", "3.22.1", "linux", "x86_64", "cpu", 11),
  p("@node-llama-cpp/linux-x64-cuda", "3.22.1", "linux", "x86_64", "cuda", 143),
  p("@node-llama-cpp/linux-x64-vulkan", "3.22.1", "linux", "x86_64", "vulkan", 24),
  p("@node-llama-cpp/linux-arm64", "3.22.1", "linux", "aarch64", "cpu", 7),
  p("@node-llama-cpp/mac-arm64-metal", "3.21.1", "darwin", "aarch64", "metal", 5),
  // The only macOS arm64 package: "cpu" loads it too and keeps every layer on the CPU.
  p("@node-llama-cpp/mac-arm64-metal", "3.21.1", "darwin", "aarch64", "cpu", 5),
  p("@node-llama-cpp/mac-x64", "3.21.1", "darwin", "x86_64", "cpu", 11),
];

function p(
  name: string,
  version: string,
  os: string,
  arch: string,
  backend: LlamaBackend,
  downloadMb: number,
): LlamaPackage {
  return { name, version, os, arch, backend, downloadMb };
}

/**
 * The default backend of a platform: metal on macOS arm64, else cpu.
 *
 * @param os `Deno.build.os`.
 * @param arch `Deno.build.arch`.
 * @returns The backend.
 * @example
 * ```ts
 * import { defaultLlamaBackend } from "./llama_package_for.ts";
 * if (defaultLlamaBackend("darwin", "aarch64") !== "metal") throw new Error("default");
 * ```
 */
export function defaultLlamaBackend(
  os: string = Deno.build.os,
  arch: string = Deno.build.arch,
): LlamaBackend {
  return os === "darwin" && arch === "aarch64" ? "metal" : "cpu";
}

/**
 * The pinned package for a backend on a platform.
 *
 * @param backend `cpu`, `cuda`, `vulkan` or `metal`; default `$LMRIG_LLAMA_BACKEND`, else the
 *   platform's default ({@link defaultLlamaBackend}).
 * @param os `Deno.build.os` (a parameter so that other platforms can be tested).
 * @param arch `Deno.build.arch`.
 * @returns The package.
 * @throws {RangeError} On a backend name that is none of the four.
 * @throws {Error} When no package is bound for that platform and backend; the message names the
 *   packages there are for the platform and what to pass instead.
 * @example
 * ```ts
 * import { llamaPackageFor } from "./llama_package_for.ts";
 * const pkg = llamaPackageFor("cuda", "linux", "x86_64");
 * if (pkg.name !== "@node-llama-cpp/linux-x64-cuda") throw new Error("wrong package");
 * ```
 */
export function llamaPackageFor(
  backend?: string,
  os: string = Deno.build.os,
  arch: string = Deno.build.arch,
): LlamaPackage {
  const b = backend ?? Deno.env.get("LMRIG_LLAMA_BACKEND") ?? defaultLlamaBackend(os, arch);
  if (!(LLAMA_BACKENDS as readonly string[]).includes(b)) {
    throw new RangeError(
      `Unknown llama.cpp backend "${b}": expected ${LLAMA_BACKENDS.join(", ")}`,
    );
  }
  const here = LLAMA_PACKAGES.filter((x) => x.os === os && x.arch === arch);
  const found = here.find((x) => x.backend === b);
  if (found) return found;
  if (os === "windows") {
    throw new Error(
      `Cannot load llama.cpp on ${os}-${arch}: this binding has no Windows loader (it opens ` +
        `lib*.so or .dylib files); @node-llama-cpp/win-x64 exists only up to 3.21.1 (v0.4.0)`,
    );
  }
  const bound = here.length > 0
    ? `bound for ${os}-${arch}: ` +
      here.map((x) => `${x.backend} (${x.name}@${x.version})`).join(", ")
    : `no node-llama-cpp package is bound for ${os}-${arch}`;
  throw new Error(
    `Cannot load llama.cpp with backend ${b} on ${os}-${arch}: no prebuilt package for it ` +
      `(${bound}); pass another --llama-backend, or build llama.cpp with that backend and pass ` +
      `its folder with --llama-lib DIR`,
  );
}
