/**
 * Opening llama.cpp once per process: dlopen of libllama and ggml from one folder, the log sink,
 * the ggml backends (GGML_BACKEND_DL builds pick their best CPU variant here), backend init, and
 * the check of every struct layout against the library's own default params.
 */
import { join } from "node:path";
import { findLlamaLibrary, type LlamaLibraryLocation } from "./find_llama_library.ts";
import { type LlamaRelease, releaseOfFileName, RELEASES } from "./releases.ts";
import { layoutMismatches } from "./layout_mismatches.ts";
import {
  GGML_BASE_SYMBOLS,
  GGML_SYMBOLS,
  LIBC_SYMBOLS,
  type LlamaSymbols,
  llamaSymbols,
} from "./symbols.ts";

/** One message llama.cpp or ggml logged. */
export interface LlamaLogEntry {
  /** ggml_log_level: 1 debug, 2 info, 3 warn, 4 error. */
  level: number;
  text: string;
}

/** The opened llama.cpp library (a process-wide singleton). */
export interface LlamaLibrary {
  location: LlamaLibraryLocation;
  release: LlamaRelease;
  libllamaPath: string;
  /** llama_version(). */
  version: string;
  symbols: LlamaSymbols;
  /** ggml devices after backend loading: name and description. */
  devices: { name: string; description: string }[];
  /** The ggml CPU variant file loaded (e.g. `haswell`, `zen4`), or null when not a DL build. */
  cpuVariant: string | null;
  /** llama_print_system_info(). */
  systemInfo: string;
  /** Every message logged since load, oldest first (llama.cpp never writes to the terminal). */
  log: LlamaLogEntry[];
  /** A monotonic clock read natively (CLOCK_MONOTONIC), in ns. */
  nowNs(): number;
}

let opened: { key: string; lib: LlamaLibrary } | null = null;
/** Where the log is also appended (the latest loadLlama call that named a file sets it). */
let debugPath: string | undefined;

function cstr(p: Deno.PointerValue): string {
  return p === null ? "" : Deno.UnsafePointerView.getCString(p);
}

function pickFile(files: string[], re: RegExp, what: string, dir: string): string {
  const f = files.filter((n) => re.test(n)).sort()[0];
  if (!f) throw new Error(`Cannot load llama.cpp from "${dir}": no ${what} library there`);
  return join(dir, f);
}

/**
 * Open llama.cpp (once; later calls with the same folder return the same library).
 *
 * @param dir A user's build folder; default `$LMRIG_LLAMA_LIB` or the pinned npm package.
 * @param debugLogPath When set, every llama.cpp log line is also appended to this file (for the
 *   whole process, until another call names another file).
 * @param backend `cpu`, `cuda`, `vulkan` or `metal` (default `$LMRIG_LLAMA_BACKEND`, else the
 *   platform's): which npm package to load; a GPU backend must find its device.
 * @returns The library.
 * @throws {Error} On a missing package or library, an unsupported release, a missing symbol, a
 *   struct layout that differs from the release's, or a GPU backend that found no device; each
 *   message names what to install.
 * @example
 * ```ts
 * import { loadLlama } from "./load_llama.ts";
 * const lib = await loadLlama();
 * console.log(lib.release.release, lib.cpuVariant, lib.devices);
 * ```
 */
export async function loadLlama(
  dir?: string,
  debugLogPath?: string,
  backend?: string,
): Promise<LlamaLibrary> {
  const location = await findLlamaLibrary(dir, backend);
  if (debugLogPath !== undefined) debugPath = debugLogPath;
  if (opened) {
    if (opened.key !== location.dir) {
      throw new Error(
        `Cannot load llama.cpp from "${location.dir}": "${opened.key}" is already loaded in ` +
          `this process (one llama.cpp per process)`,
      );
    }
    return opened.lib;
  }
  const files = [...Deno.readDirSync(location.dir)].map((e) => e.name);
  const libllamaPath = pickFile(
    files,
    /^libllama(\.[\w.]+)?\.(so|dylib)$/,
    "libllama",
    location.dir,
  );
  const named = releaseOfFileName(libllamaPath.split("/").pop()!);
  // A user's build carries no release in its file name: bind the newest supported release and
  // let the layout check below refuse it when it is another one.
  const releaseName = named ?? Object.keys(RELEASES).sort().at(-1)!;
  const release = RELEASES[releaseName];
  if (!release) {
    throw new Error(
      `Cannot load llama.cpp "${libllamaPath}": release ${releaseName} is not supported ` +
        `(supported: ${Object.keys(RELEASES).join(", ")}; install node-llama-cpp ` +
        `${Object.values(RELEASES).map((r) => r.npmVersion).join(" or ")} platform packages)`,
    );
  }
  // libggml.v0.5.0.so, or with the package's flavour: libggml.vulkan.v0.5.0.so.
  const ggmlPath = pickFile(
    files,
    /^libggml(\.[a-z0-9]+)?(\.v[\d.]+)?\.(so|dylib)$/,
    "libggml",
    location.dir,
  );
  const basePath = pickFile(
    files,
    /^libggml-base(\.v[\d.]+)?\.(so|dylib)$/,
    "libggml-base",
    location.dir,
  );
  const libc = Deno.dlopen(
    Deno.build.os === "darwin" ? "libSystem.dylib" : "libc.so.6",
    LIBC_SYMBOLS,
  );
  let ggml, base, llama;
  try {
    ggml = Deno.dlopen(ggmlPath, GGML_SYMBOLS);
    base = Deno.dlopen(basePath, GGML_BASE_SYMBOLS);
    llama = Deno.dlopen(libllamaPath, llamaSymbols(release));
  } catch (e) {
    throw new Error(
      `Cannot load llama.cpp "${libllamaPath}": ${(e as Error).message}; it is not llama.cpp ` +
        `release ${release.release} (install node-llama-cpp ${release.npmVersion} packages)`,
    );
  }
  const sym = llama.symbols;
  const log: LlamaLogEntry[] = [];
  const enc = new TextEncoder();
  // Thread-safe: ggml may log from a thread other than the JS one (the model load and context
  // creation run nonblocking on a worker thread); such calls are queued to the JS thread, which
  // is free then. llama_decode runs on the JS thread, where the callback is a direct call.
  const sink = Deno.UnsafeCallback.threadSafe(
    { parameters: ["i32", "pointer"], result: "void" } as const,
    (level: number, text: Deno.PointerValue) => {
      const s = cstr(text);
      if (level === 5 && log.length > 0) log[log.length - 1].text += s;
      else log.push({ level, text: s });
      if (debugPath) Deno.writeFileSync(debugPath, enc.encode(s), { append: true });
    },
  );
  sink.unref();
  sym.llama_log_set(sink.pointer, null);
  const noopLog = libc.symbols.getpid as Deno.PointerValue;
  globalThis.addEventListener("unload", () => sym.llama_log_set(noopLog, null));

  // GGML_BACKEND_DL: scores every libggml-<backend>-<variant> file here and keeps the best.
  ggml.symbols.ggml_backend_load_all_from_path(enc.encode(location.dir + "\0"));
  sym.llama_backend_init();

  const mismatches = [
    ...layoutMismatches(release, "llama_model_params", sym.llama_model_default_params()),
    ...layoutMismatches(release, "llama_context_params", sym.llama_context_default_params()),
    ...layoutMismatches(
      release,
      "llama_model_quantize_params",
      sym.llama_model_quantize_default_params(),
    ),
  ];
  if (mismatches.length > 0) {
    throw new Error(
      `Cannot use llama.cpp "${libllamaPath}": its struct layout is not release ` +
        `${release.release}'s (${mismatches.slice(0, 3).join("; ")}); install node-llama-cpp ` +
        `${release.npmVersion} packages or build llama.cpp ${release.release}`,
    );
  }
  const devices: { name: string; description: string }[] = [];
  const n = Number(ggml.symbols.ggml_backend_dev_count());
  for (let i = 0; i < n; i++) {
    const d = ggml.symbols.ggml_backend_dev_get(BigInt(i));
    devices.push({
      name: cstr(base.symbols.ggml_backend_dev_name(d)),
      description: cstr(base.symbols.ggml_backend_dev_description(d)),
    });
  }
  // A GPU package loads its backend file only where the driver is there; without it ggml keeps
  // the CPU and every figure would silently be a CPU figure.
  const gpu = { cuda: /^cuda/i, vulkan: /^vulkan/i, metal: /^(metal|mtl)/i, cpu: null }[
    location.backend
  ];
  if (gpu && !devices.some((d) => gpu.test(d.name))) {
    throw new Error(
      `Cannot use llama.cpp backend ${location.backend} from "${location.dir}": ggml found no ` +
        `${location.backend} device (devices: ${
          devices.map((d) => d.name).join(", ") || "none"
        }); ` +
        `check the driver, or pass --llama-backend cpu`,
    );
  }
  const ts = new BigInt64Array(2);
  const tsBytes = new Uint8Array(ts.buffer);
  // CLOCK_MONOTONIC is 1 in Linux's <time.h> and 6 in macOS's.
  const monotonic = Deno.build.os === "darwin" ? 6 : 1;
  if (libc.symbols.clock_gettime(monotonic, tsBytes) !== 0) {
    throw new Error(`Cannot time llama.cpp: clock_gettime(CLOCK_MONOTONIC = ${monotonic}) failed`);
  }
  const lib: LlamaLibrary = {
    location,
    release,
    libllamaPath,
    version: cstr(sym.llama_version()),
    symbols: sym,
    devices,
    cpuVariant: cpuVariant(log),
    systemInfo: cstr(sym.llama_print_system_info()).trim(),
    log,
    nowNs() {
      libc.symbols.clock_gettime(monotonic, tsBytes);
      return Number(ts[0]) * 1e9 + Number(ts[1]);
    },
  };
  opened = { key: location.dir, lib };
  return lib;
}

/** The CPU variant mapped into this process (Linux), else the one the backend loader logged. */
function cpuVariant(log: LlamaLogEntry[]): string | null {
  const re = /libggml-cpu-([\w-]+)\.(so|dylib|dll)/;
  if (Deno.build.os === "linux") {
    const m = re.exec(Deno.readTextFileSync("/proc/self/maps"));
    if (m) return m[1];
  }
  for (const e of log) {
    const m = re.exec(e.text);
    if (m) return m[1];
  }
  return null;
}
