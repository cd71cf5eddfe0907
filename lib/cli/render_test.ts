import assert from "node:assert/strict";
import { formatTable } from "./format_table.ts";
import { sparkline } from "./sparkline.ts";

Deno.test("formatTable pads columns and right-aligns numbers", () => {
  assert.equal(
    formatTable(["ID", "TPS"], [["S1", "16.6"], ["S10", "5.0 ± 0.1"]]),
    "| ID  |       TPS |\n|-----|----------:|\n| S1  |      16.6 |\n| S10 | 5.0 ± 0.1 |",
  );
  assert.throws(() => formatTable(["a"], [["1", "2"]]), {
    message: "Row 0 has 2 cells but the table has 1 columns",
  });
});

Deno.test("sparkline scales between min and max and bins long series", () => {
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█");
  assert.equal(sparkline([3, 3, 3]), "▄▄▄");
  assert.equal(sparkline([]), "");
  assert.equal(sparkline(Array.from({ length: 1000 }, (_, i) => i), 10).length, 10);
});

Deno.test("the grid table prints the record's one ceiling and flags a share over 100%", async () => {
  const { readRecord } = await import("../results/read_record.ts");
  const { renderGridReport } = await import("./render_grid_report.ts");
  const record = await readRecord("tests/fixtures/records/grid-a.json");
  record.environment.probes.ceilingBps = 12.345e9;
  const s1 = record.cases[0].metrics.decodeTps;
  s1.limit = s1.summary.median / 1.25;
  s1.utilisation = 1.25;
  const s2 = record.cases[1].metrics.decodeTps;
  s2.limit = s2.summary.median / 0.5;
  s2.utilisation = 0.5;
  const text = renderGridReport(record);
  const bw = record.environment.probes.bandwidthBps.summary;
  assert.match(
    text,
    new RegExp(
      `\\| 12\\.3 GB/s \\(median of ${bw.n} probe passes; spread ` +
        `${(bw.min / 1e9).toFixed(1)}-${(bw.max / 1e9).toFixed(1)}`,
    ),
  );
  assert.match(text, /\| S1 .*\| 125\.0% \(over 100%!\) +\|/);
  assert.match(text, /\| S2 .*\| 50\.0% +\|/);
  assert.match(text, /S1 125\.0% \(over 100%!\), S2 50\.0%/);
  assert.match(text, /Decode TPS spread across cases \(CV of case medians\)/);
});

Deno.test("serving percentiles carry n and give no p99 under 20 samples", async () => {
  const { pcts } = await import("./_serving_tables.ts");
  const { makeMetric } = await import("../results/make_metric.ts");
  const few = makeMetric("ns", "lower", Array.from({ length: 19 }, (_, i) => (i + 1) * 1e6));
  const many = makeMetric("ns", "lower", Array.from({ length: 20 }, (_, i) => (i + 1) * 1e6));
  assert.match(pcts(few), /^[\d.]+ \/ [\d.]+ \/ - \/ 19\.0 \(n=19\)$/);
  assert.match(pcts(many), /^[\d.]+ \/ [\d.]+ \/ [\d.]+ \/ 20\.0 \(n=20\)$/);
});

Deno.test("the grid table of a side-by-side run prints both targets and their ratio per case", async () => {
  const { readRecord } = await import("../results/read_record.ts");
  const { renderGridReport } = await import("./render_grid_report.ts");
  const text = renderGridReport(await readRecord("tests/fixtures/records/grid-targets.json"));
  assert.match(text, /\| S1@llama\.cpp +\|/);
  assert.match(text, /\| ID +\| Figure +\| lmrig \| llama\.cpp \| llama\.cpp \/ lmrig +\|/);
  assert.match(text, /\| S3 +\| decode TPS \| +9\.9 \| +5\.0 \| 0\.50x \[0\.49, 0\.51\] \|/);
  assert.match(text, /- llama\.cpp v0\.5\.0: npm @node-llama-cpp\/linux-x64@3\.22\.1/);
  // A record on one target has no side-by-side section.
  const plain = renderGridReport(await readRecord("tests/fixtures/records/grid-a.json"));
  assert.doesNotMatch(plain, /side by side/);
});
