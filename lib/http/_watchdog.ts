/**
 * One shared timer per isolate that checks every in-flight request's deadlines, instead of a
 * timer armed and cleared per streamed chunk (which would cost more than the chunk itself).
 * Deadlines are therefore honoured to within TICK_MS.
 */

/** How often deadlines are checked, ms. */
export const TICK_MS = 10;

type Check = (nowMs: number) => void;

const active = new Set<Check>();
let timer: ReturnType<typeof setInterval> | undefined;

function tick(): void {
  const now = performance.now();
  for (const check of active) check(now);
}

/**
 * Register a deadline check, called every TICK_MS with performance.now() until the returned
 * function removes it; the timer stops when nothing is registered (no timer outlives a run).
 */
export function watch(check: Check): () => void {
  active.add(check);
  if (timer === undefined) timer = setInterval(tick, TICK_MS);
  return () => {
    active.delete(check);
    if (active.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
