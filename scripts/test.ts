/**
 * `deno task test`: the one test command. Builds native/ (Release) with CMake, runs ctest, runs
 * `deno test -A --doc` over the TypeScript folders (every test file, and every JSDoc and markdown
 * example type-checked and run), and with CI=true or --sanitize also builds with ASan+UBSan
 * (build-asan/) and runs ctest there. Ends with `tests: N passed, M failed, K skipped`: tests that
 * could not run here (a CUDA test without a GPU: ctest's SKIP_RETURN_CODE; an ignored Deno test)
 * are counted apart, never as passed.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { repoRoot } from "../lib/env/repo_root.ts";
import { buildNative } from "./build.ts";
import { parseCtestSummary } from "../lib/cli/parse_ctest_summary.ts";
import { parseDenoTestSummary } from "../lib/cli/parse_deno_test_summary.ts";

/** The outcome of one stage. */
interface Stage {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
  ok: boolean;
  note?: string;
}

/** Run a command, streaming its output while keeping a copy. */
async function tee(cmd: string, args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(cmd, {
    args,
    cwd: repoRoot(),
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const dec = new TextDecoder();
  const pump = async (stream: ReadableStream<Uint8Array>, to: typeof Deno.stdout) => {
    for await (const chunk of stream) {
      text += dec.decode(chunk, { stream: true });
      await to.write(chunk);
    }
  };
  const [status] = await Promise.all([
    child.status,
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  return { ok: status.success, text };
}

async function nativeStages(sanitize: boolean): Promise<Stage[]> {
  const label = sanitize ? "native (ASan+UBSan)" : "native (Release)";
  let dir: string;
  try {
    console.log(`== build ${label}`);
    dir = await buildNative({ sanitize, quiet: true });
  } catch (e) {
    console.error((e as Error).message);
    return [{
      name: `build ${label}`,
      passed: 0,
      failed: 1,
      skipped: 0,
      ok: false,
      note: "build failed",
    }];
  }
  console.log(`== ctest ${label}`);
  const env: Record<string, string> = sanitize
    ? {
      ASAN_OPTIONS: "detect_leaks=1:abort_on_error=1",
      UBSAN_OPTIONS: "halt_on_error=1:print_stacktrace=1",
    }
    : {};
  const r = await tee("ctest", ["--test-dir", dir, "--output-on-failure", "-j", "2"], env);
  const counts = parseCtestSummary(r.text);
  if (counts === null) {
    return [{
      name: `ctest ${label}`,
      passed: 0,
      failed: 1,
      skipped: 0,
      ok: false,
      note: "no ctest summary",
    }];
  }
  return [{ name: `ctest ${label}`, ...counts, ok: r.ok && counts.failed === 0 }];
}

/**
 * What `deno test --doc` reads: named folders, since a bare `--doc` would also pick up build
 * folders (CMake writes `compiler_depend.ts` files that are not TypeScript).
 */
const DENO_TEST_PATHS = ["lib", "scripts", "scenarios", "tests", "mod.ts", "README.md", "docs"];

async function denoStage(
  paths: string[] = ["--doc", ...DENO_TEST_PATHS],
  name = "deno test",
  env: Record<string, string> = {},
): Promise<Stage> {
  console.log(`== deno test -A ${paths.join(" ")}`);
  const lib = join(
    repoRoot(),
    "build",
    Deno.build.os === "darwin" ? "liblmrig.dylib" : "liblmrig.so",
  );
  const r = await tee(Deno.execPath(), ["test", "-A", "--quiet", ...paths], {
    LMRIG_LIB: Deno.env.get("LMRIG_LIB") ?? lib,
    ...env,
  });
  const counts = parseDenoTestSummary(r.text);
  if (counts === null) {
    return {
      name,
      passed: 0,
      failed: 1,
      skipped: 0,
      ok: false,
      note: "did not run (see errors above)",
    };
  }
  return { name, ...counts, ok: r.ok && counts.failed === 0 };
}

/**
 * The kernel level below the best one, where the machine has more than AVX2: the engine reads
 * LMRIG_CPU_LEVEL once per process, so the whole-model numerics test runs again in a process
 * capped at AVX2 (the FP32 prefill path and its negative control) on AVX-512-BF16 machines.
 */
function lowerCpuLevel(): string | null {
  if (Deno.build.arch !== "x86_64" || Deno.build.os !== "linux") return null;
  try {
    return /\bavx512_bf16\b/.test(Deno.readTextFileSync("/proc/cpuinfo")) ? "avx2" : null;
  } catch {
    return null;
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    strict: true,
    options: {
      sanitize: { type: "boolean", default: false },
      "skip-native": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(
      "Usage: deno task test [--sanitize] [--skip-native]\n\n" +
        "Builds native/ (Release), runs ctest and deno test -A --doc (tests and every doc\n" +
        "example); --sanitize (or CI=true) also runs ctest under ASan+UBSan; --skip-native\n" +
        "runs only the Deno tests against the existing build/.",
    );
    return 0;
  }
  const sanitize = values.sanitize || Deno.env.get("CI") === "true";
  const stages: Stage[] = [];
  if (!values["skip-native"]) stages.push(...await nativeStages(false));
  stages.push(await denoStage());
  const lower = lowerCpuLevel();
  if (lower) {
    stages.push(
      await denoStage(["tests/numerics_test.ts"], `deno test numerics (LMRIG_CPU_LEVEL=${lower})`, {
        LMRIG_CPU_LEVEL: lower,
      }),
    );
  }
  if (sanitize && !values["skip-native"]) stages.push(...await nativeStages(true));
  console.log("");
  for (const s of stages) {
    const status = s.ok ? "ok" : "FAILED";
    console.log(
      `${s.name}: ${status}, ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${
        s.note ? ` (${s.note})` : ""
      }`,
    );
  }
  const passed = stages.reduce((a, s) => a + s.passed, 0);
  const failed = stages.reduce((a, s) => a + s.failed, 0);
  const skipped = stages.reduce((a, s) => a + s.skipped, 0);
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return stages.every((s) => s.ok) && failed === 0 ? 0 : 1;
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    console.error((e as Error).message);
    console.log("tests: 0 passed, 1 failed, 0 skipped");
    Deno.exit(1);
  }
}
