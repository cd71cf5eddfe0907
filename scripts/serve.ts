/**
 * `deno task serve --model SPEC [options]`: serve a model over OpenAI's HTTP API with
 * continuous batching (lib/serve/). SIGINT/SIGTERM: stop accepting, let running requests finish
 * within --shutdown-timeout, cancel the rest, exit 0. See --help and docs/serving.md.
 */
import { existsSync } from "node:fs";
import { findLibrary } from "../lib/ffi/find_library.ts";
import { parseServeArgs, SERVE_USAGE, type ServeArgs } from "../lib/serve/parse_serve_args.ts";
import { startServer } from "../lib/serve/start_server.ts";
import { buildNative } from "./build.ts";

async function main(): Promise<number> {
  let args: ServeArgs;
  try {
    args = parseServeArgs(Deno.args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 2;
  }
  if (args.help) {
    console.log(SERVE_USAGE);
    return 0;
  }
  if (!Deno.env.get("LMRIG_LIB") && !existsSync(findLibrary())) {
    console.error(`${findLibrary()} is missing: building the engine (deno task build) ...`);
    await buildNative({ quiet: true });
  }
  let server;
  try {
    server = await startServer(args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
  const t = server.model.target;
  for (const note of server.model.notes) console.error(`note: ${note}`);
  console.log(
    `lmrig serve: listening on ${server.baseUrl} (model ${server.modelId}, target ${t.name}, ` +
      `${t.maxSeqs} slots, ${t.maxCtx} positions per sequence)`,
  );
  let signals = 0;
  const onSignal = (name: string) => {
    signals++;
    if (signals === 1) {
      console.error(
        `lmrig serve: ${name}: stopping (running requests get ${args.shutdownTimeoutS} s; ` +
          `send it again to cancel them now)`,
      );
      server.shutdown(args.shutdownTimeoutS * 1000);
    } else server.shutdown(0);
  };
  const sigint = () => onSignal("SIGINT");
  const sigterm = () => onSignal("SIGTERM");
  Deno.addSignalListener("SIGINT", sigint);
  Deno.addSignalListener("SIGTERM", sigterm);
  await server.finished;
  await server.shutdown(0); // the target is closed once the scheduler has stopped
  Deno.removeSignalListener("SIGINT", sigint);
  Deno.removeSignalListener("SIGTERM", sigterm);
  const s = server.scheduler.stats();
  console.error(
    `lmrig serve: stopped (${s.requestsFinished} finished, ${s.requestsCancelled} cancelled, ` +
      `${s.requestsFailed} failed, ${s.requestsRejected} refused)`,
  );
  return 0;
}

Deno.exit(await main());
