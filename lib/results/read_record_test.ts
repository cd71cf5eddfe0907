import { deepStrictEqual as assertEquals, match as assertMatch } from "node:assert/strict";
import { readRecord } from "./read_record.ts";

const FIX = "tests/fixtures/records";

/** Asserts that readRecord rejects with `Class` and a message matching `pattern`. */
async function rejects(path: string, Class: ErrorConstructor, pattern: RegExp): Promise<void> {
  let caught: unknown;
  try {
    await readRecord(path);
  } catch (e) {
    caught = e;
  }
  if (!(caught instanceof Class)) {
    throw new Error(`expected ${Class.name} from ${path}, got ${caught}`);
  }
  assertMatch((caught as Error).message, pattern);
}

async function withTemp(value: unknown, fn: (path: string) => Promise<void>): Promise<void> {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, typeof value === "string" ? value : JSON.stringify(value));
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("readRecord reads a valid record", async () => {
  const r = await readRecord(`${FIX}/grid-a.json`);
  assertEquals(r.schemaVersion, 2, "upgraded from the fixture's schema 1");
  assertEquals(r.cases.map((c) => c.id), ["S1", "S2", "S3", "S4", "S5", "S6"]);
  assertEquals(r.cases[0].metrics.ttftNs.samples.length, 7);
  // A schema 1 record gets one ceiling (its best pre-run sample, what it used) and a warning.
  assertEquals(r.environment.probes.ceilingBps, r.environment.probes.bandwidthBps.summary.max);
  assertEquals(r.warnings.filter((w) => w.startsWith("Schema 1 record")).length, 1);
});

Deno.test("readRecord names the file and the metric of empty samples", async () => {
  const v1 = JSON.parse(await Deno.readTextFile(`${FIX}/grid-a.json`));
  v1.cases[1].metrics.decodeTps.samples = [];
  await withTemp(v1, (path) =>
    rejects(
      path,
      TypeError,
      /^Cannot read record ".*\.json": cases\[1\]\.metrics\.decodeTps\.samples is empty/,
    ));
});

Deno.test("readRecord refuses a schema 2 record without its ceiling or with a bad status", async () => {
  const v1 = JSON.parse(await Deno.readTextFile(`${FIX}/grid-a.json`));
  const v2 = { ...v1, schemaVersion: 2 };
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, JSON.stringify(v2));
    await rejects(path, TypeError, /environment\.probes\.ceilingBps must be/);
    v2.environment.probes.ceilingBps = 2e10;
    v2.status = "failed";
    v2.error = "Case S3 failed: boom";
    await Deno.writeTextFile(path, JSON.stringify(v2));
    const r = await readRecord(path);
    assertEquals([r.status, r.error], ["failed", "Case S3 failed: boom"]);
    v2.status = "broken";
    await Deno.writeTextFile(path, JSON.stringify(v2));
    await rejects(path, TypeError, /or "failed", got "broken"/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("readRecord names the position of malformed JSON", async () => {
  await rejects(
    `${FIX}/malformed.json`,
    TypeError,
    /^Cannot read record ".*malformed\.json": malformed JSON at line 5, column 19 \(position \d+\)/,
  );
});

Deno.test("readRecord refuses newer and unknown older schema versions", async () => {
  await rejects(
    `${FIX}/new-version.json`,
    RangeError,
    /schema version 3 is newer than this tool's 2/,
  );
  await rejects(
    `${FIX}/old-version.json`,
    RangeError,
    /schema version 0 is older than this tool's 2 and cannot be upgraded/,
  );
});

Deno.test("readRecord reports missing files and foreign JSON", async () => {
  await rejects(
    `${FIX}/nope.json`,
    TypeError,
    /"tests\/fixtures\/records\/nope\.json": file not found/,
  );
  await withTemp(
    { hello: 1 },
    (p) => rejects(p, TypeError, /schema is undefined, expected "lmrig.result"/),
  );
  await withTemp("[1,2]", (p) => rejects(p, TypeError, /not a JSON object/));
});

Deno.test("readRecord names the JSON path of a bad field", async () => {
  const good = JSON.parse(await Deno.readTextFile(`${FIX}/workers.json`));
  const bad = structuredClone(good);
  bad.cases[2].metrics.decodeTps.samples[1] = "fast";
  await withTemp(
    bad,
    (p) =>
      rejects(
        p,
        TypeError,
        /cases\[2\]\.metrics\.decodeTps\.samples must be an array of finite numbers/,
      ),
  );
  const noBetter = structuredClone(good);
  delete noBetter.cases[0].metrics.ttftNs.better;
  await withTemp(
    noBetter,
    (p) =>
      rejects(
        p,
        TypeError,
        /cases\[0\]\.metrics\.ttftNs\.better must be "lower" or "higher", got undefined/,
      ),
  );
  const dup = structuredClone(good);
  dup.cases[1].id = dup.cases[0].id;
  await withTemp(
    dup,
    (p) => rejects(p, TypeError, /cases\[1\]\.id "workers-1" is used by two cases/),
  );
  const noEngine = structuredClone(good);
  delete noEngine.engine;
  await withTemp(noEngine, (p) => rejects(p, TypeError, /engine must be an object, got missing/));
});
