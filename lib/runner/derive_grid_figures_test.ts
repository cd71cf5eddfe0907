import assert from "node:assert/strict";
import { makeMetric } from "../results/make_metric.ts";
import type { Case } from "../results/types.ts";
import { deriveGridFigures } from "./derive_grid_figures.ts";

const gridCase = (id: string, prompt: number, ttftMs: number, tps: number): Case => ({
  id,
  description: "",
  params: { promptTokens: prompt, decodeTokens: 8 },
  metrics: {
    ttftNs: makeMetric("ns", "lower", [ttftMs * 1e6]),
    decodeTps: makeMetric("tokens/s", "higher", [tps]),
  },
  warmup: {},
  series: {},
  counters: { peakBytes: prompt * 1000 },
});

Deno.test("deriveGridFigures: prefill slope, decode TPS CV, bandwidth limit, peak", () => {
  const d = deriveGridFigures(
    [gridCase("A", 100, 12, 10), gridCase("B", 200, 22, 12), gridCase("C", 400, 42, 14)],
    { bandwidthBps: 20e9, decodeBytes: 1e9, loadNs: 5e8 },
  );
  assert.ok(Math.abs(d.prefillScalingMsPerToken.value - 0.1) < 1e-12);
  assert.ok(Math.abs(d.decodeTpsCv.value - 2 / 12) < 1e-12); // stddev 2, mean 12
  assert.equal(d.maxDecodeTps.value, 20);
  assert.equal(d.peakBytes.value, 400_000);
  assert.equal(d.loadNs.value, 5e8);
  assert.equal("gpuUtilisation" in d, false, "no kernel timings, no estimate");
});
