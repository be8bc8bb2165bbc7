/**
 * A one-line progress bar on stderr: epoch, batch, running bound, ETA.
 * On a terminal it redraws in place; elsewhere (logs, CI) it prints a line
 * at most every few seconds so logs stay short.
 */

/** Formats seconds as `1h02m`, `3m05s` or `42s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600)
    return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A progress bar writing to a stream. */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly minIntervalMs = stream.isTTY ? 100 : 10000,
  ) {}

  /**
   * Draws `fraction` done with a label and a suffix.
   * @param force draw even if the last draw was recent.
   */
  update(fraction: number, label: string, suffix: string, force = false): void {
    const now = performance.now();
    if (!force && now - this.lastDraw < this.minIntervalMs) return;
    this.lastDraw = now;
    const width = 24;
    const filled = Math.max(0, Math.min(width, Math.round(fraction * width)));
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const line = `${label} ${bar} ${suffix}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r${line}\x1b[K`);
      this.drawn = true;
    } else {
      this.stream.write(`${line}\n`);
    }
  }

  /** Ends the current line (terminal) so the next output starts clean. */
  done(finalLine?: string): void {
    if (this.stream.isTTY && this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
    if (finalLine !== undefined) this.stream.write(`${finalLine}\n`);
  }
}
