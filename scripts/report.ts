/**
 * Publish a benchmark report: `deno task report <records...> [--out docs/benchmarks.md]
 * [--charts DIR]`. Writes every applicable chart (PNG) to DIR (default: charts/ beside the
 * report) and the markdown report linking them. Exit status 2 on bad arguments or records.
 * @module
 */
import { parseArgs } from "node:util";
import { dirname, relative } from "node:path";
import { buildReport } from "../lib/report/mod.ts";
import { readRecord } from "../lib/results/read_record.ts";
import { writeCharts } from "./chart.ts";

if (import.meta.main) {
  try {
    const { values, positionals } = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        out: { type: "string", default: "docs/benchmarks.md" },
        charts: { type: "string" },
        title: { type: "string" },
      },
    });
    if (positionals.length === 0) {
      throw new RangeError(
        "Cannot build report: no record files given\nUsage: deno task report <record.json...> [--out docs/benchmarks.md] [--charts DIR]",
      );
    }
    const records = await Promise.all(positionals.map((p) => readRecord(p)));
    const outDir = dirname(values.out);
    const chartDir = values.charts ?? `${outDir}/charts`;
    const written = await writeCharts(positionals, chartDir, ["png"]);
    const charts = written.map((w) => ({ path: relative(outDir, w.paths[0]), caption: w.caption }));
    await Deno.mkdir(outDir, { recursive: true });
    await Deno.writeTextFile(
      values.out,
      buildReport(records, { files: positionals, charts, title: values.title }),
    );
    console.log(`wrote ${values.out} and ${charts.length} chart(s) in ${chartDir}`);
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError)) throw e;
    console.error(`error: ${e.message}`);
    Deno.exit(2);
  }
}
