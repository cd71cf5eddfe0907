/**
 * Build the native engine with CMake: `deno task build [--debug] [--sanitize] [--clean]`.
 * Release by default into build/; --sanitize builds with ASan+UBSan into build-asan/.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { repoRoot } from "../lib/env/repo_root.ts";

/** Options of {@link buildNative}. */
export interface BuildOptions {
  /** Build folder relative to the repository root (default "build", "build-asan" sanitized). */
  buildDir?: string;
  /** CMAKE_BUILD_TYPE (default "Release"). */
  buildType?: "Release" | "Debug" | "RelWithDebInfo";
  /** -DLMR_SANITIZE=ON. */
  sanitize?: boolean;
  /** Parallel jobs (default the number of cores). */
  jobs?: number;
  /** Show only failures (the output of a failed step is printed). */
  quiet?: boolean;
}

async function run(
  cmd: string,
  args: string[],
  quiet: boolean,
): Promise<{ ok: boolean; text: string }> {
  let out;
  try {
    out = await new Deno.Command(cmd, {
      args,
      cwd: repoRoot(),
      stdout: quiet ? "piped" : "inherit",
      stderr: quiet ? "piped" : "inherit",
    }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        `Cannot build the engine: "${cmd}" not found; install CMake >= 3.20 and a C compiler ` +
          `(Debian/Ubuntu: apt-get install cmake build-essential; macOS: brew install cmake)`,
      );
    }
    throw e;
  }
  const dec = new TextDecoder();
  const text = quiet ? dec.decode(out.stdout) + dec.decode(out.stderr) : "";
  return { ok: out.success, text };
}

/**
 * Configure and build native/ with CMake. Reports a missing cmake or C compiler in plain words.
 *
 * @param options Build folder, type, sanitizers, jobs.
 * @returns The absolute build folder.
 * @throws {Error} `Cannot build the engine: ...` with the reason (and CMake's output when quiet).
 * @example
 * Not run as a doc test: it would rebuild native/ (minutes, and mid-edit sources).
 * ```ts ignore
 * const dir = await buildNative({ quiet: true });
 * ```
 */
export async function buildNative(options: BuildOptions = {}): Promise<string> {
  const sanitize = options.sanitize ?? false;
  const dir = join(repoRoot(), options.buildDir ?? (sanitize ? "build-asan" : "build"));
  const quiet = options.quiet ?? false;
  const configure = await run("cmake", [
    "-S",
    "native",
    "-B",
    dir,
    `-DCMAKE_BUILD_TYPE=${options.buildType ?? "Release"}`,
    `-DLMR_SANITIZE=${sanitize ? "ON" : "OFF"}`,
    // The Release build already proves the CUDA backend compiles and links; the sanitizer build
    // checks host code only, so it leaves nvcc out and saves CI a minute.
    ...(sanitize ? ["-DLMR_CUDA=OFF"] : []),
  ], quiet);
  if (!configure.ok) {
    const noCompiler =
      /No CMAKE_C(XX)?_COMPILER could be found|compiler .* not found|is not a full path and was not found/i
        .test(configure.text);
    throw new Error(
      noCompiler
        ? "Cannot build the engine: no C compiler found; install gcc or clang " +
          "(Debian/Ubuntu: apt-get install build-essential; macOS: xcode-select --install)"
        : `Cannot build the engine: CMake configure failed${quiet ? `\n${configure.text}` : ""}`,
    );
  }
  const jobs = options.jobs ?? navigator.hardwareConcurrency ?? 2;
  const build = await run("cmake", ["--build", dir, "-j", String(jobs)], quiet);
  if (!build.ok) {
    throw new Error(`Cannot build the engine: compilation failed${quiet ? `\n${build.text}` : ""}`);
  }
  return dir;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      debug: { type: "boolean", default: false },
      sanitize: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      "Usage: deno task build [--debug] [--sanitize]\n\n" +
        "Builds native/ with CMake into build/ (Release), or build-asan/ with --sanitize.",
    );
    Deno.exit(0);
  }
  try {
    const dir = await buildNative({
      buildType: values.debug ? "Debug" : "Release",
      sanitize: values.sanitize,
    });
    console.error(`built ${dir}`);
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
