import assert from "node:assert/strict";
import { targetRatios } from "../compare/target_ratios.ts";
import { readRecord } from "../results/read_record.ts";
import { allCharts } from "./all_charts.ts";
import { targetsChart } from "./targets_chart.ts";

type Values = { data: { values: Record<string, number | string>[] } };

Deno.test("targetsChart: every case on every target, its median and its ratio to the base", async () => {
  const r = await readRecord("tests/fixtures/records/grid-targets.json");
  const values = (targetsChart([r]) as unknown as Values).data.values;
  const ratios = targetRatios(r);
  assert.equal(values.length, 2 * ratios.length);
  for (const x of ratios) {
    const base = values.find((v) => v.caseId === x.caseId && v.target === x.base)!;
    const other = values.find((v) => v.caseId === x.caseId && v.target === x.other)!;
    assert.equal(base.y, x.baseValue);
    assert.equal(other.y, x.otherValue);
    assert.equal(other.text, `${x.ratio.toFixed(2)}x`);
    assert.equal(base.text, "");
  }
  assert.ok(allCharts([r]).some((c) => c.name === "targets-side-by-side"));
});

Deno.test("targetsChart: a record with one target has nothing to draw", async () => {
  const r = await readRecord("tests/fixtures/records/grid-a.json");
  assert.throws(() => targetsChart([r]), /Cannot draw targets chart: no record ran its cases/);
  assert.ok(!allCharts([r]).some((c) => c.name === "targets-side-by-side"));
});
