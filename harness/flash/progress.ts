/**
 * Transfer progress for people: on a TTY a bar redrawn in place (bytes, rate, ETA); otherwise a
 * quiet line at each quarter, so CI logs stay short. Writes to the stream given (stderr by
 * default), never to stdout, which `--json` keeps for the result.
 */
export interface ProgressReporter {
  update(done: number, total: number): void;
  note(message: string): void;
  finish(): void;
}

export interface ProgressOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  label?: string;
  /** Clock in ms (tests). */
  now?: () => number;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatBytes(Math.round(bytesPerSecond))}/s`;
}

export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** One status line: `label [#####.....]  42%  1.2 MiB / 2.8 MiB  25.1 KiB/s  ETA 1m04s`. */
export function progressLine(label: string, done: number, total: number, elapsedMs: number, width = 24): string {
  const frac = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(frac * width);
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const eta = rate > 0 ? (total - done) / rate : Infinity;
  const bar = '#'.repeat(filled) + '.'.repeat(width - filled);
  return `${label} [${bar}] ${String(Math.floor(frac * 100)).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(total)}  ${formatRate(rate)}  ETA ${formatEta(eta)}`;
}

export function createProgress(opts: ProgressOptions = {}): ProgressReporter {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const now = opts.now ?? (() => performance.now());
  const label = opts.label ?? 'flash';
  const start = now();
  let lastQuarter = -1;
  let lastDraw = 0;
  let drawn = false;
  return {
    update(done, total) {
      const t = now();
      if (tty) {
        if (t - lastDraw < 100 && done < total) return;
        lastDraw = t;
        stream.write(`\r${progressLine(label, done, total, t - start)}\x1b[K`);
        drawn = true;
      } else {
        const q = total > 0 ? Math.floor((done / total) * 4) : 4;
        if (q > lastQuarter) {
          lastQuarter = q;
          const rate = t > start ? (done * 1000) / (t - start) : 0;
          stream.write(`${label}: ${formatBytes(done)} / ${formatBytes(total)} (${Math.floor((done / Math.max(1, total)) * 100)}%, ${formatRate(rate)})\n`);
        }
      }
    },
    note(message) {
      if (tty && drawn) stream.write('\r\x1b[K');
      stream.write(`${label}: ${message}\n`);
      drawn = false;
    },
    finish() {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}

/** A reporter that prints nothing (library use, --json). */
export const silentProgress: ProgressReporter = { update() {}, note() {}, finish() {} };
