/** The shared ending of the record-reading entry points (compare, chart, report). */

/**
 * Run `main` and exit with its status; a TypeError or RangeError (bad arguments or records) is
 * printed as `error: <message>` with exit status 2, anything else propagates with its stack.
 *
 * @param main The script's body; resolves to the exit status.
 * @returns Never; the process exits.
 */
export async function runMain(main: () => Promise<number>): Promise<never> {
  try {
    Deno.exit(await main());
  } catch (e) {
    if (!(e instanceof TypeError || e instanceof RangeError)) throw e;
    console.error(`error: ${e.message}`);
    Deno.exit(2);
  }
}
