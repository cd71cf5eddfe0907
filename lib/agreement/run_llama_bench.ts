/** Running a user's `llama-bench` binary and reading its JSON output. */

/** Settings of one llama-bench run (every one that changes the figures is passed explicitly). */
export interface LlamaBenchOptions {
  model: string;
  threads: number;
  pp: number;
  tg: number;
  reps: number;
  /** KV cache type for K and V (llama-bench -ctk/-ctv). */
  kvType: string;
  /** Flash attention on or off (llama-bench -fa; its default "auto" is not used). */
  flashAttn: boolean;
  nBatch: number;
  nUbatch: number;
}

/** What llama-bench measured: tokens/s per repetition, and what it says it is. */
export interface LlamaBenchResult {
  pp: number[];
  tg: number[];
  /** build_commit and build_number as llama-bench prints them. */
  build: string;
  /** The exact command line run. */
  command: string[];
}

/**
 * Run `llama-bench` on a GGUF file with the given sizes and settings (`-o json`, CPU only:
 * `-ngl 0`), and read the per-repetition tokens/s (`samples_ts`) of its pp and tg tests.
 *
 * @param binary Path of the llama-bench executable (built by the user; lmrig never builds or
 *   downloads llama.cpp).
 * @param o Model, sizes and settings.
 * @returns Its samples, build and command line.
 * @throws {Error} `Cannot run llama-bench "<path>": ...` when it is missing, exits non-zero (with
 *   the end of its stderr) or prints no JSON results.
 * @example
 * ```ts ignore
 * const r = await runLlamaBench("/opt/llama.cpp/bin/llama-bench", { model: "m.gguf",
 *   threads: 2, pp: 128, tg: 32, reps: 5, kvType: "f16", flashAttn: false, nBatch: 2048,
 *   nUbatch: 512 });
 * ```
 */
export async function runLlamaBench(
  binary: string,
  o: LlamaBenchOptions,
): Promise<LlamaBenchResult> {
  const args = [
    ...["-m", o.model, "-t", String(o.threads), "-r", String(o.reps)],
    ...["-p", String(o.pp), "-n", String(o.tg), "-ngl", "0", "-fa", o.flashAttn ? "on" : "off"],
    ...["-ctk", o.kvType, "-ctv", o.kvType, "-b", String(o.nBatch), "-ub", String(o.nUbatch)],
    ...["-o", "json"],
  ];
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(binary, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    throw new Error(`Cannot run llama-bench "${binary}": ${(e as Error).message}`);
  }
  const stderr = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join("; ");
  if (!out.success) {
    throw new Error(`Cannot run llama-bench "${binary}": exit status ${out.code} (${stderr})`);
  }
  const text = new TextDecoder().decode(out.stdout);
  let rows: Record<string, unknown>[];
  try {
    rows = JSON.parse(text.slice(text.indexOf("["), text.lastIndexOf("]") + 1));
  } catch {
    throw new Error(`Cannot run llama-bench "${binary}": no JSON results in its output`);
  }
  const samples = (pick: (r: Record<string, unknown>) => boolean) =>
    rows.filter(pick).flatMap((r) =>
      (r.samples_ts as number[] | undefined) ?? [r.avg_ts as number]
    );
  const first = rows[0] ?? {};
  return {
    pp: samples((r) => Number(r.n_prompt) > 0 && Number(r.n_gen) === 0),
    tg: samples((r) => Number(r.n_gen) > 0 && Number(r.n_prompt) === 0),
    build: `${first.build_commit ?? "?"} (build ${first.build_number ?? "?"})`,
    command: [binary, ...args],
  };
}
