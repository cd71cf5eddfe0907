/** The shared ending of the record-reading entry points (compare, chart, report). */

/**
 * Run `main` and exit with its status; a TypeError or RangeError (bad arguments or records) is
 * printed as `error: <message>` with exit status 2, an OS error (Deno.errors: a folder where a
 * file was expected, no permission) as `error: <message>` with status 1, anything else
 * propagates with its stack.
 *
 * @param main The script's body; resolves to the exit status.
 * @returns Never; the process exits.
 */
export async function runMain(main: () => Promise<number>): Promise<never> {
  try {
    Deno.exit(await main());
  } catch (e) {
    if (e instanceof TypeError || e instanceof RangeError) {
      console.error(`error: ${e.message}`);
      Deno.exit(2);
    }
    // An OS error on a file the user named (a folder, no permission, a full disk) is theirs to
    // fix: its message, not a stack trace.
    if (e instanceof Error && Object.values(Deno.errors).some((E) => e instanceof E)) {
      console.error(`error: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
}
