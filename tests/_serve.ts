/** Helpers of the lmrig serve tests: JSON posts and a server-sent-events reader (loopback only). */

/** POST `body` as JSON (a string is sent as is). */
export function post(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
}

/** A stream's parsed `data:` objects, and whether it ended with `data: [DONE]`. */
export interface SseResult {
  events: Record<string, unknown>[];
  done: boolean;
  /** Milliseconds from the call to each event (performance.now). */
  atMs: number[];
}

/** Read a whole SSE response; `onEvent` may return true to stop reading (the body is cancelled). */
export async function readSse(
  res: Response,
  onEvent?: (e: Record<string, unknown>, i: number) => boolean | void,
): Promise<SseResult> {
  const t0 = performance.now();
  const out: SseResult = { events: [], done: false, atMs: [] };
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        if (!block.startsWith("data: ")) throw new Error(`Not an SSE data line: ${block}`);
        const data = block.slice(6);
        if (data === "[DONE]") {
          out.done = true;
          continue;
        }
        if (out.done) throw new Error("Data after [DONE]");
        const e = JSON.parse(data);
        out.events.push(e);
        out.atMs.push(performance.now() - t0);
        if (onEvent?.(e, out.events.length - 1) === true) {
          await reader.cancel();
          return out;
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
  if (buf.trim() !== "") throw new Error(`Trailing bytes after the last event: ${buf}`);
  return out;
}

/** Parse Prometheus text into name -> value (labels dropped). */
export async function metrics(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(base.replace(/\/v1$/, "") + "/metrics")).text();
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = line.match(/^(\w+)\{[^}]*\} (\S+)$/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Poll `f` every 10 ms until it returns true or `ms` pass. */
export async function waitFor(f: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (await f()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return await f();
}
