/** Opening the lmrig library: existence, ABI version and struct layout checks, then binding. */
import { findLibrary } from "./find_library.ts";
import { EXPECTED_ABI_VERSION, type LmrSymbols, SYMBOLS, VERSION_SYMBOLS } from "./symbols.ts";
import * as S from "./structs.ts";

/** An opened, checked lmrig library. */
export interface Library {
  path: string;
  abiVersion: number;
  /** lmr_version_string(), e.g. "0.1.0". */
  version: string;
  symbols: LmrSymbols;
  close(): void;
}

/** Options of {@link loadLibrary}. */
export interface LoadLibraryOptions {
  /** Library file; default {@link findLibrary} ($LMRIG_LIB or <repo>/build/liblmrig.so). */
  path?: string;
  /** The ABI version to require; default the one these bindings are written for. */
  expectedAbiVersion?: number;
}

const cache = new Map<string, Library>();

/**
 * Open the lmrig library, refusing a missing file, an ABI version other than the expected one,
 * a missing symbol or a struct whose size differs from lib/ffi/structs.ts. Libraries opened
 * with default checks are cached by path.
 *
 * @param options Path and expected ABI version.
 * @returns The bound library.
 * @throws {Error} `Cannot load lmrig library "<path>": file not found; run "deno task build"`,
 *   or a message naming both ABI versions, the missing symbol or the struct whose size differs.
 * @example
 * ```ts
 * import { loadLibrary } from "./load_library.ts";
 * const lib = loadLibrary();
 * console.log(lib.version, lib.abiVersion);
 * ```
 */
export function loadLibrary(options: LoadLibraryOptions = {}): Library {
  const path = options.path ?? findLibrary();
  const expected = options.expectedAbiVersion ?? EXPECTED_ABI_VERSION;
  const cacheable = options.expectedAbiVersion === undefined;
  const cached = cacheable ? cache.get(path) : undefined;
  if (cached) return cached;

  const fail = (why: string) => new Error(`Cannot load lmrig library "${path}": ${why}`);
  try {
    Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw fail(`file not found; run "deno task build"`);
    throw fail((e as Error).message);
  }

  let probe: Deno.DynamicLibrary<typeof VERSION_SYMBOLS>;
  try {
    probe = Deno.dlopen(path, VERSION_SYMBOLS);
  } catch (e) {
    throw fail(`not a loadable lmrig library (${(e as Error).message})`);
  }
  const abiVersion = probe.symbols.lmr_abi_version();
  const versionPtr = probe.symbols.lmr_version_string();
  const version = versionPtr === null ? "" : Deno.UnsafePointerView.getCString(versionPtr);
  probe.close();
  if (abiVersion !== expected) {
    throw fail(
      `the library has ABI version ${abiVersion} (lmrig ${version}) but these bindings expect ` +
        `ABI version ${expected}; rebuild it with "deno task build" or update lib/ffi/`,
    );
  }

  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen(path, SYMBOLS);
  } catch (e) {
    throw fail(`a symbol of lmrig.h is missing (${(e as Error).message}); rebuild the library`);
  }
  checkStructSizes(lib.symbols, fail, () => lib.close());
  const library: Library = {
    path,
    abiVersion,
    version,
    symbols: lib.symbols,
    close() {
      cache.delete(path);
      lib.close();
    },
  };
  if (cacheable) cache.set(path, library);
  return library;
}

function checkStructSizes(
  sym: LmrSymbols,
  fail: (why: string) => Error,
  close: () => void,
): void {
  const pairs: [S.StructLayoutLike, Uint8Array][] = [
    [S.ENGINE_PARAMS, sym.lmr_engine_params_default()],
    [S.ENGINE_INFO, sym.lmr_engine_info_default()],
    [S.COUNTERS, sym.lmr_counters_default()],
    [S.MODEL_PARAMS, sym.lmr_model_params_default()],
    [S.MODEL_INFO, sym.lmr_model_info_default()],
    [S.SESSION_PARAMS, sym.lmr_session_params_default()],
    [S.SESSION_INFO, sym.lmr_session_info_default()],
    [S.SAMPLER_PARAMS, sym.lmr_sampler_params_default()],
    [S.GENERATE_STATS, sym.lmr_generate_stats_default()],
  ];
  for (const [layout, bytes] of pairs) {
    const size = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
    if (size !== layout.size) {
      close();
      throw fail(
        `struct ${layout.name} is ${size} bytes in the library but ${layout.size} in ` +
          `lib/ffi/structs.ts; rebuild the library or update the bindings`,
      );
    }
  }
}
