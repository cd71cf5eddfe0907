/**
 * A load worker: one more isolate (and event loop) driving its share of an HTTP load run, for
 * loads one event loop cannot stream. Messages: `{ shard, startEpochMs }` starts it (the run
 * start on the shared epoch clock, performance.timeOrigin + now()), `{ stop: true }` aborts
 * in-flight requests; it answers `{ ready: true }` once loaded and `{ results }` at the end.
 */
/// <reference lib="deno.worker" />
import { type LoadShard, runLoadShard } from "./_load_shard.ts";

const ac = new AbortController();
self.onmessage = async (e: MessageEvent) => {
  const m = e.data as { shard?: LoadShard; startEpochMs?: number; stop?: boolean };
  if (m.stop) {
    ac.abort();
    return;
  }
  if (!m.shard || m.startEpochMs === undefined) return;
  try {
    const startMs = m.startEpochMs - performance.timeOrigin;
    const results = await runLoadShard(m.shard, startMs, ac.signal);
    self.postMessage({ results });
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
self.postMessage({ ready: true });
