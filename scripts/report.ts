/**
 * Publish a benchmark report: `deno task report <records...> [--out docs/benchmarks.md]
 * [--charts DIR] [--title TEXT]`. Writes every applicable chart (PNG) to DIR (default: charts/
 * beside the report) and the markdown report linking them, each file atomically. Records that
 * are not complete (running, interrupted, failed) are refused unless --include-partial is
 * given. Exit status 2 on bad arguments or records.
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, relative } from "node:path";
import { writeCharts } from "../lib/charts/write_charts.ts";
import { buildReport } from "../lib/report/mod.ts";
import { checkOutPath } from "../lib/results/check_out_path.ts";
import { readRecord } from "../lib/results/read_record.ts";
import { refusePartial } from "../lib/results/refuse_partial.ts";
import { writeFileAtomic } from "../lib/results/write_file_atomic.ts";
import { runMain } from "./_run_main.ts";

const USAGE = "Usage: deno task report <record.json...> [--out docs/benchmarks.md] " +
  "[--charts DIR] [--title TEXT] [--include-partial]";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      out: { type: "string", default: "docs/benchmarks.md" },
      charts: { type: "string" },
      title: { type: "string" },
      "include-partial": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    throw new RangeError(`Cannot build report: no record files given\n${USAGE}`);
  }
  checkOutPath(values.out, "--out"); // a folder or a device is refused before any work
  const records = await Promise.all(positionals.map((p) => readRecord(p)));
  const partial = refusePartial(
    records.map((record, i) => ({ path: positionals[i], record })),
    values["include-partial"] === true,
    "report on",
  );
  for (const note of partial) console.error(`warning: ${note}`);
  const outDir = dirname(values.out);
  const chartDir = values.charts ?? `${outDir}/charts`;
  const written = await writeCharts(positionals, chartDir, ["png"]);
  const charts = written.map((w) => ({ path: relative(outDir, w.paths[0]), caption: w.caption }));
  await writeFileAtomic(
    values.out,
    buildReport(records, { files: positionals, charts, title: values.title }),
  );
  console.log(`wrote ${values.out} and ${charts.length} chart(s) in ${chartDir}`);
  return 0;
}

if (import.meta.main) await runMain(main);
