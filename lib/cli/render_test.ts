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
