/**
 * Write every chart that applies to the given records: `deno task chart <record...> [--out dir]
 * [--format png,svg]` (default docs/charts/, png). Exit status 2 on bad arguments or records.
 * @module
 */
import { parseArgs } from "node:util";
import { allCharts, renderPng, renderSvg } from "../lib/charts/mod.ts";
import { recordLabels } from "../lib/compare/record_labels.ts";
import { readRecord } from "../lib/results/read_record.ts";

const USAGE = `Usage: deno task chart <record.json...> [--out DIR] [--format png,svg] [--scale N]`;

/**
 * Render the charts of `files` into `outDir`; returns the written paths.
 * Exported for scripts/report.ts.
 */
export async function writeCharts(
  files: string[],
  outDir: string,
  formats: string[] = ["png"],
  scale = 2,
): Promise<{ name: string; caption: string; paths: string[] }[]> {
  const bad = formats.filter((f) => f !== "png" && f !== "svg");
  if (bad.length) {
    throw new RangeError(`Cannot write charts: unknown format "${bad[0]}" (png, svg)`);
  }
  const records = await Promise.all(files.map((f) => readRecord(f)));
  const charts = allCharts(records, { labels: recordLabels(records, files) });
  await Deno.mkdir(outDir, { recursive: true });
  const written = [];
  for (const chart of charts) {
    const svg = await renderSvg(chart.spec);
    const paths: string[] = [];
    for (const format of formats) {
      const path = `${outDir.replace(/\/$/, "")}/${chart.name}.${format}`;
      if (format === "svg") await Deno.writeTextFile(path, svg);
      else await Deno.writeFile(path, await renderPng(svg, { scale }));
      paths.push(path);
    }
    written.push({ name: chart.name, caption: chart.caption, paths });
  }
  return written;
}

if (import.meta.main) {
  try {
    const { values, positionals } = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        out: { type: "string", default: "docs/charts" },
        format: { type: "string", default: "png" },
        scale: { type: "string", default: "2" },
      },
    });
    if (positionals.length === 0) {
      throw new RangeError(`Cannot write charts: no record files given\n${USAGE}`);
    }
    const scale = Number(values.scale);
    if (!(scale > 0)) {
      throw new RangeError(
        `Cannot write charts: --scale must be a positive number, got "${values.scale}"`,
      );
    }
    const written = await writeCharts(positionals, values.out, values.format.split(","), scale);
    if (written.length === 0) console.error("warning: no chart applies to these records");
    for (const w of written) console.log(w.paths.join("  "));
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError)) throw e;
    console.error(`error: ${e.message}`);
    Deno.exit(2);
  }
}
