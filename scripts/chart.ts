/**
 * Write every chart that applies to the given records: `deno task chart <record...> [--out dir]
 * [--format png,svg] [--scale N]` (default docs/charts/, png). Exit status 2 on bad arguments or
 * records.
 * @module
 */
import { parseArgs } from "node:util";
import { writeCharts } from "../lib/charts/write_charts.ts";
import { runMain } from "./_run_main.ts";

const USAGE = `Usage: deno task chart <record.json...> [--out DIR] [--format png,svg] [--scale N]`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      out: { type: "string", default: "docs/charts" },
      format: { type: "string", default: "png" },
      scale: { type: "string", default: "2" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
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
  return 0;
}

if (import.meta.main) await runMain(main);
