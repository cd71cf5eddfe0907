/**
 * A minimal HTTP/1.1 client over Deno.connect / Deno.connectTls for streamed responses. fetch
 * costs about 40 us of CPU per body read on the 2-core test machine (one async op and stream
 * promise per chunk), which caps one event loop near 20,000 chunks/s; reading the socket
 * directly delivers whatever bytes have arrived in one op (many SSE events at high load), so
 * the load generator stays far from its own limit (docs/serving.md, "The client's overhead").
 * Request: one POST with a Content-Length body. Response: status line, headers, and a body
 * framed by chunked transfer encoding, Content-Length, or the connection's end.
 */

const enc = new TextEncoder();
const CRLF2 = [13, 10, 13, 10];

/** Idle keep-alive connections by `host:port`, owned by one load run. */
export class ConnectionPool {
  #idle = new Map<string, Deno.Conn[]>();
  #closed = false;
  /** A kept connection to `key`, if any. */
  take(key: string): Deno.Conn | undefined {
    return this.#idle.get(key)?.pop();
  }
  /** Keep `conn` for the next request to `key` (closed at once after close()). */
  give(key: string, conn: Deno.Conn): void {
    if (this.#closed) {
      conn.close();
      return;
    }
    const list = this.#idle.get(key) ?? [];
    list.push(conn);
    this.#idle.set(key, list);
  }
  /** Close every idle connection; later give() calls close theirs. */
  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) {
      for (const c of list) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    }
    this.#idle.clear();
  }
}

/** A response whose body is read as it arrives. */
export interface Http1Response {
  status: number;
  /** Header names in lower case. */
  headers: Map<string, string>;
  /**
   * The next body bytes (de-chunked) of one socket read, or null at the body's end. Throws
   * when the connection breaks before the body's framing says it is complete.
   */
  read(): Promise<Uint8Array | null>;
  /** Close the connection (also unblocks a pending read). Idempotent. */
  close(): void;
}

function indexOfSeq(buf: Uint8Array, seq: number[], from: number): number {
  outer: for (let i = from; i <= buf.length - seq.length; i++) {
    for (let k = 0; k < seq.length; k++) if (buf[i + k] !== seq[k]) continue outer;
    return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Connect (or reuse a pooled connection), send a POST and read the response head.
 *
 * @param url The target URL (http: or https:).
 * @param headers Request headers (Host, Content-Length and Connection are set here).
 * @param body The request body.
 * @param onConn Called with a closer as soon as a connection exists (for timeouts).
 * @param pool Keep-alive pool; without one every request uses a fresh connection and
 *   `Connection: close`.
 * @returns The response, its body not yet read.
 * @throws {Error} When the connection cannot be made or breaks before the head is complete.
 */
export async function http1Post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  onConn: (close: () => void) => void,
  pool?: ConnectionPool,
): Promise<Http1Response> {
  const tls = url.protocol === "https:";
  const port = Number(url.port || (tls ? 443 : 80));
  const key = `${url.protocol}//${url.hostname}:${port}`;
  const bodyBytes = enc.encode(body);
  let head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n` +
    `content-length: ${bodyBytes.length}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  head += pool ? "\r\n" : "connection: close\r\n\r\n";
  const request = concat(enc.encode(head), bodyBytes);

  for (let attempt = 0;; attempt++) {
    const reused = attempt === 0 ? pool?.take(key) : undefined;
    const conn = reused ??
      (tls
        ? await Deno.connectTls({ hostname: url.hostname, port })
        : await Deno.connect({ hostname: url.hostname, port }));
    try {
      return await exchange(conn, request, onConn, pool, key);
    } catch (e) {
      // A kept connection the server has since closed fails before any byte: retry on a new one.
      if (reused && (e as { beforeHead?: boolean }).beforeHead) continue;
      throw e;
    }
  }
}

async function exchange(
  conn: Deno.Conn,
  request: Uint8Array,
  onConn: (close: () => void) => void,
  pool: ConnectionPool | undefined,
  key: string,
): Promise<Http1Response> {
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* already closed */ }
  };
  onConn(close);
  const scratch = new Uint8Array(64 * 1024);
  const readSome = async (): Promise<Uint8Array | null> => {
    const n = await conn.read(scratch);
    return n === null ? null : scratch.slice(0, n);
  };
  let buf: Uint8Array = new Uint8Array(0);
  try {
    let written = 0;
    while (written < request.length) written += await conn.write(request.subarray(written));
  } catch (e) {
    close();
    throw Object.assign(new Error(`the request could not be sent: ${(e as Error).message}`), {
      beforeHead: true,
    });
  }
  let end = -1;
  while (end < 0) {
    let got: Uint8Array | null;
    try {
      got = await readSome();
    } catch (e) {
      close();
      throw Object.assign(new Error((e as Error).message), { beforeHead: buf.length === 0 });
    }
    if (got === null) {
      close();
      throw Object.assign(
        new Error("the connection closed before a response head"),
        { beforeHead: buf.length === 0 },
      );
    }
    buf = concat(buf, got);
    end = indexOfSeq(buf, CRLF2, 0);
  }
  const headText = new TextDecoder().decode(buf.subarray(0, end));
  const lines = headText.split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
  if (!Number.isInteger(status)) {
    close();
    throw new Error(`not an HTTP/1.1 response: ${JSON.stringify(lines[0].slice(0, 60))}`);
  }
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const c = l.indexOf(":");
    if (c > 0) headers.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim());
  }
  let rest = buf.subarray(end + 4);
  const chunked = /chunked/i.test(headers.get("transfer-encoding") ?? "");
  const length = headers.has("content-length") ? Number(headers.get("content-length")) : null;
  const keep = pool !== undefined && !/close/i.test(headers.get("connection") ?? "") &&
    (chunked || length !== null);
  let received = 0; // content-length framing
  // Chunked framing state: bytes left in the current chunk (-1: at a size line), done flag.
  let left = -1;
  let finished = false;
  let pendingHead: Uint8Array = new Uint8Array(0); // an incomplete size line or CRLF
  const finish = () => {
    finished = true;
    if (keep && !closed) pool!.give(key, conn);
    else close();
    closed = true;
  };
  const dechunk = (input: Uint8Array): Uint8Array => {
    let data = concat(pendingHead, input);
    pendingHead = new Uint8Array(0);
    const parts: Uint8Array[] = [];
    let i = 0;
    while (i < data.length && !finished) {
      if (left > 0) {
        const take = Math.min(left, data.length - i);
        parts.push(data.subarray(i, i + take));
        i += take;
        left -= take;
        if (left === 0) left = -2; // the CRLF after the data
        continue;
      }
      const nl = data.indexOf(10, i);
      if (nl < 0) {
        pendingHead = data.slice(i);
        break;
      }
      if (left === -2) {
        left = -1;
        i = nl + 1;
        continue;
      }
      const size = parseInt(new TextDecoder().decode(data.subarray(i, nl)).split(";")[0], 16);
      i = nl + 1;
      if (!Number.isFinite(size)) throw new Error("malformed chunked encoding");
      if (size === 0) {
        // Trailers end with an empty line; they are ignored here and the exchange is over.
        finish();
        break;
      }
      left = size;
    }
    data = new Uint8Array(0);
    if (parts.length === 1) return parts[0].slice();
    let n = 0;
    for (const p of parts) n += p.length;
    const out = new Uint8Array(n);
    n = 0;
    for (const p of parts) {
      out.set(p, n);
      n += p.length;
    }
    return out;
  };
  const take = (input: Uint8Array): Uint8Array => {
    if (chunked) return dechunk(input);
    if (length !== null) {
      const part = input.subarray(0, Math.max(0, length - received));
      received += part.length;
      if (received >= length) finish();
      return part.slice();
    }
    return input.slice();
  };
  let first: Uint8Array | null = rest.length > 0 ? take(rest) : null;
  rest = new Uint8Array(0);
  if (!chunked && length === 0) finish();
  return {
    status,
    headers,
    close,
    async read(): Promise<Uint8Array | null> {
      for (;;) {
        if (first !== null) {
          const f = first;
          first = null;
          if (f.length > 0) return f;
        }
        if (finished) return null;
        const got = await readSome();
        if (got === null) {
          close();
          if (chunked || length !== null) {
            throw new Error("the connection closed before the response body was complete");
          }
          finished = true;
          return null;
        }
        const out = take(got);
        if (out.length > 0) return out;
      }
    },
  };
}
