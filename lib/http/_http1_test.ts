import assert from "node:assert/strict";
import { ConnectionPool } from "./_http1.ts";
import { streamCompletion } from "./stream_completion.ts";
import type { HttpRequestSpec } from "./types.ts";

const enc = new TextEncoder();
const ev = (text: string, last = false) =>
  `data: ${JSON.stringify({ choices: [{ text, finish_reason: last ? "length" : null }] })}\n\n`;
const BODY = ev("a") + ev("b") + ev("c", true) + "data: [DONE]\n\n";

/**
 * A raw TCP server on loopback answering every request with `respond(conn)`, so the client's
 * HTTP/1.1 framing is tested byte by byte (split chunk headers, lengths, closes, keep-alive).
 */
function rawServer(respond: (conn: Deno.Conn) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const open = new Set<Deno.Conn>();
  const done = (async () => {
    for await (const conn of listener) {
      connections++;
      open.add(conn);
      (async () => {
        const buf = new Uint8Array(65536);
        try {
          for (;;) {
            // One request per read is enough here: small bodies on loopback.
            const n = await conn.read(buf);
            if (n === null) break;
            await respond(conn);
          }
        } catch { /* closed */ }
        open.delete(conn);
        try {
          conn.close();
        } catch { /* already */ }
      })();
    }
  })();
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    connections: () => connections,
    async close() {
      listener.close();
      for (const c of open) {
        try {
          c.close();
        } catch { /* already */ }
      }
      await done.catch(() => {});
    },
  };
}

const spec = (baseUrl: string): HttpRequestSpec => ({
  baseUrl,
  api: "completions",
  model: "m",
  prompt: [1, 2],
  maxTokens: 3,
  exactTokens: false,
  timeouts: { connectMs: 1000, firstTokenMs: 1000, idleMs: 500, totalMs: 3000 },
});

const pause = () => new Promise((r) => setTimeout(r, 15));

Deno.test("http1: chunked bodies split anywhere, even inside a size line, parse the same", async () => {
  const s = rawServer(async (conn) => {
    const chunks = [BODY.slice(0, 30), BODY.slice(30, 95), BODY.slice(95)];
    const wire = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n" +
      "transfer-encoding: chunked\r\n\r\n" +
      chunks.map((c) => `${enc.encode(c).length.toString(16)};ext=1\r\n${c}\r\n`).join("") +
      "0\r\n\r\n";
    // Write it in 7-byte pieces with pauses: sizes, data and CRLFs cross reads.
    for (let i = 0; i < wire.length; i += 7) {
      await conn.write(enc.encode(wire.slice(i, i + 7)));
      if (i % 70 === 0) await pause();
    }
  });
  try {
    const r = await streamCompletion(spec(s.baseUrl));
    assert.ok(r.ok, r.error);
    assert.equal(r.chunks, 3);
    assert.equal(r.text, "abc");
  } finally {
    await s.close();
  }
});

Deno.test("http1: Content-Length and close-delimited bodies; keep-alive reuses one connection", async () => {
  let mode: "length" | "close" = "length";
  const s = rawServer(async (conn) => {
    const body = enc.encode(BODY);
    if (mode === "length") {
      await conn.write(enc.encode(
        `HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: ${body.length}\r\n\r\n`,
      ));
      await conn.write(body);
    } else {
      await conn.write(enc.encode("HTTP/1.0 200 OK\r\ncontent-type: text/event-stream\r\n\r\n"));
      await conn.write(body);
      conn.close();
    }
  });
  try {
    const pool = new ConnectionPool();
    for (let i = 0; i < 3; i++) {
      const r = await streamCompletion(spec(s.baseUrl), undefined, pool);
      assert.ok(r.ok && r.text === "abc", r.error);
    }
    pool.close();
    assert.equal(s.connections(), 1, "three requests over one kept connection");
    mode = "close";
    const r = await streamCompletion(spec(s.baseUrl));
    assert.ok(r.ok && r.text === "abc", r.error);
  } finally {
    await s.close();
  }
});

Deno.test("http1: a connection reset mid-chunk is a stream cut; garbage is not HTTP", async () => {
  let garbage = false;
  const s = rawServer(async (conn) => {
    if (garbage) {
      await conn.write(enc.encode("SSH-2.0-OpenSSH\r\n\r\n"));
      return;
    }
    const part = ev("a") + ev("b");
    await conn.write(enc.encode(
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" +
        `${(enc.encode(part).length + 40).toString(16)}\r\n${part}`,
    ));
    await pause();
    conn.close(); // 40 bytes of the chunk never come
  });
  try {
    const r = await streamCompletion(spec(s.baseUrl));
    assert.equal(r.errorKind, "stream-cut");
    assert.match(r.error!, /after 2 chunk\(s\).*closed before the response body was complete/);
    garbage = true;
    const g = await streamCompletion(spec(s.baseUrl));
    assert.equal(g.errorKind, "connect-refused");
    assert.match(g.error!, /not an HTTP\/1\.1 response/);
  } finally {
    await s.close();
  }
});
