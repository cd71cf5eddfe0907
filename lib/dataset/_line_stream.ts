/** Streams a file as text lines, holding one line in memory at a time. */

/** Yields [1-based line number, line text without its "\n" or "\r\n"]. */
export async function* lineStream(path: string): AsyncGenerator<[number, string]> {
  const file = await Deno.open(path, { read: true }); // closed by its readable at the end
  let pending = "";
  let line = 0;
  for await (const chunk of file.readable.pipeThrough(new TextDecoderStream())) {
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
