/** A live progress line on stderr: rewritten in place on a TTY, periodic plain lines otherwise. */
import type { ProgressEvent } from "../runner/types.ts";

const encoder = new TextEncoder();

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, "0")}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/**
 * Progress reporting for the bench. On a terminal the line is redrawn after every run; when
 * stderr is a file or pipe a plain line is written at most every `intervalMs` and at each
 * case's last run.
 *
 * @example
 * ```ts ignore
 * const progress = new Progress();
 * await runGrid(ctx, scenario, options, { onProgress: (e) => progress.update(e) });
 * progress.done();
 * ```
 */
export class Progress {
  readonly #tty: boolean;
  readonly #intervalMs: number;
  #lastPrint = 0;
  #drawn = false;

  constructor(options: { tty?: boolean; intervalMs?: number } = {}) {
    this.#tty = options.tty ?? Deno.stderr.isTerminal();
    this.#intervalMs = options.intervalMs ?? 10_000;
  }

  /** The text of one progress line. */
  static line(e: ProgressEvent): string {
    const figures: string[] = [];
    if (e.last.ttftNs !== undefined) figures.push(`TTFT ${(e.last.ttftNs / 1e6).toFixed(1)} ms`);
    if (e.last.decodeTps !== undefined) figures.push(`${e.last.decodeTps.toFixed(1)} tok/s`);
    const eta = e.etaMs === null ? "" : `, ETA ${duration(e.etaMs)}`;
    return `[${e.done}/${e.total}] ${e.caseId} ${e.phase === "warmup" ? "warm-up" : "run"} ` +
      `${e.run}/${e.planned}: ${figures.join(", ")}${eta}`;
  }

  /** Report a finished run. */
  update(e: ProgressEvent): void {
    const text = Progress.line(e);
    if (this.#tty) {
      Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${text}`));
      this.#drawn = true;
      return;
    }
    const now = performance.now();
    const lastOfCase = e.phase === "measure" && e.run === e.planned;
    if (lastOfCase || now - this.#lastPrint >= this.#intervalMs) {
      this.#lastPrint = now;
      Deno.stderr.writeSync(encoder.encode(text + "\n"));
    }
  }

  /** Print a message on its own line (keeping the live line intact). */
  note(message: string): void {
    this.done();
    Deno.stderr.writeSync(encoder.encode(message + "\n"));
  }

  /** End the live line. */
  done(): void {
    if (this.#tty && this.#drawn) Deno.stderr.writeSync(encoder.encode("\r\x1b[2K"));
    this.#drawn = false;
  }
}
