/** Streams a file as text chunks or lines, holding one chunk or line in memory at a time. */

/** Yields the file's text in chunks as read (UTF-8, a leading BOM dropped). */
export async function* textChunks(path: string): AsyncGenerator<string> {
  const file = await Deno.open(path, { read: true }); // closed by its readable at the end
  yield* file.readable.pipeThrough(new TextDecoderStream());
}

/** Yields [1-based line number, line text without its "\n" or "\r\n"]. */
export async function* lineStream(path: string): AsyncGenerator<[number, string]> {
  let pending = "";
  let line = 0;
  for await (const chunk of textChunks(path)) {
    pending += chunk;
    let start = 0;
    for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n", start)) {
      yield [++line, stripCr(pending.slice(start, nl))];
      start = nl + 1;
    }
    pending = pending.slice(start);
  }
  if (pending !== "") yield [++line, stripCr(pending)];
}

function stripCr(s: string): string {
  return s.endsWith("\r") ? s.slice(0, -1) : s;
}
