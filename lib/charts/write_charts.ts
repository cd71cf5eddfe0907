/** Render every chart that applies to a set of record files and write them, atomically. */
import { recordLabels } from "../compare/record_labels.ts";
import { readRecord } from "../results/read_record.ts";
import { writeFileAtomic } from "../results/write_file_atomic.ts";
import { allCharts } from "./all_charts.ts";
import { renderPng } from "./render_png.ts";
import { renderSvg } from "./render_svg.ts";

/** One chart written to disk. */
export interface WrittenChart {
  /** File stem, e.g. "ttft-vs-prompt". */
  name: string;
  /** What it shows, one sentence for the report. */
  caption: string;
  /** The files written, one per format, in the order the formats were given. */
  paths: string[];
}

/**
 * Read `files`, draw every chart that applies (see allCharts) and write each as
 * `<outDir>/<name>.<format>`, each file atomically. Used by `deno task chart` and `deno task
 * report`.
 *
 * @param files Record files; their names become legend labels where records look alike.
 * @param outDir Folder for the charts; created when missing.
 * @param formats "png" and/or "svg" (default png).
 * @param scale PNG pixel scale (default 2).
 * @returns The charts written; empty when none applies.
 * @throws {RangeError} On an unknown format.
 * @throws {TypeError | RangeError} When a record cannot be read (see readRecord).
 * @example
 * ```ts
 * import { writeCharts } from "./write_charts.ts";
 * const dir = await Deno.makeTempDir();
 * const written = await writeCharts(["tests/fixtures/records/grid-a.json"], dir, ["svg"]);
 * if (!written.some((w) => w.name === "ttft-vs-prompt")) throw new Error("a grid has TTFT");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeCharts(
  files: string[],
  outDir: string,
  formats: string[] = ["png"],
  scale = 2,
): Promise<WrittenChart[]> {
  const bad = formats.filter((f) => f !== "png" && f !== "svg");
  if (bad.length) {
    throw new RangeError(`Cannot write charts: unknown format "${bad[0]}" (png, svg)`);
  }
  const records = await Promise.all(files.map((f) => readRecord(f)));
  const charts = allCharts(records, { labels: recordLabels(records, files) });
  const written: WrittenChart[] = [];
  for (const chart of charts) {
    const svg = await renderSvg(chart.spec);
    const paths: string[] = [];
    for (const format of formats) {
      const path = `${outDir.replace(/\/$/, "")}/${chart.name}.${format}`;
      await writeFileAtomic(path, format === "svg" ? svg : await renderPng(svg, { scale }));
      paths.push(path);
    }
    written.push({ name: chart.name, caption: chart.caption, paths });
  }
  return written;
}
