/**
 * Publish a benchmark report: `deno task report <records...> [--out docs/benchmarks.md]
 * [--charts DIR] [--title TEXT]`. Writes every applicable chart (PNG) to DIR (default: charts/
 * beside the report) and the markdown report linking them, each file atomically. Exit status 2
 * on bad arguments or records.
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, relative } from "node:path";
import { writeCharts } from "../lib/charts/write_charts.ts";
import { buildReport } from "../lib/report/mod.ts";
import { readRecord } from "../lib/results/read_record.ts";
import { writeFileAtomic } from "../lib/results/write_file_atomic.ts";
import { runMain } from "./_run_main.ts";

const USAGE =
  "Usage: deno task report <record.json...> [--out docs/benchmarks.md] [--charts DIR] [--title TEXT]";

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      out: { type: "string", default: "docs/benchmarks.md" },
      charts: { type: "string" },
      title: { type: "string" },
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
  const records = await Promise.all(positionals.map((p) => readRecord(p)));
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
