/**
 * Received bytes with awaitable, deadline-bound reads. Data arrives through events (no polling
 * for "bytes waiting", which misreports on ptys); readers wait on a promise woken by new data.
 * One deadline timer serves every wait on the buffer (armed for the earliest deadline waited on,
 * not made and cleared per wait), and lets the process exit while nobody waits.
 */
import { LinkClosedError, LinkTimeoutError } from './errors.js';

const EMPTY = Buffer.alloc(0);

/**
 * A reader of one framed answer, scanned as its bytes arrive (RxBuffer.readFrame): `scan` is
 * given everything buffered (the same bytes as before, and more) and returns how many bytes the
 * answer takes once it is whole, or -1 to wait for more. Its phase and deadline may change as it
 * goes (an acknowledgement, then the output); `restart` is called when the buffer's front was
 * taken by somebody else between two scans (the saved positions are void).
 */
export interface FrameReader {
  phase: string;
  /** `Date.now()` time at which the wait for more ends. */
  deadline: number;
  scan(buf: Buffer): number;
  restart(): void;
}

interface Waiter {
  /** `Date.now()` time at which the wait ends unwoken. */
  at: number;
  resolve(changed: boolean): void;
}

export class RxBuffer {
  private buf: Buffer = EMPTY;
  private waiters: Waiter[] = [];
  private closedReason: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** When `timer` fires (Infinity: not armed). */
  private timerAt = Infinity;
  /** Counts takings from the front of the buffer (a search's resume point is void after one). */
  private takings = 0;

  constructor(private readonly name: string) {}

  push(data: Uint8Array): void {
    this.take(this.buf.length === 0 ? Buffer.from(data) : Buffer.concat([this.buf, data]));
  }
  /** `push` for bytes nobody changes afterwards (a transport's own fresh read): kept without a copy. */
  pushOwned(data: Buffer): void {
    this.take(this.buf.length === 0 ? data : Buffer.concat([this.buf, data]));
  }
  private consume(rest: Buffer): void {
    this.buf = rest;
    this.takings++;
  }
  private take(b: Buffer): void {
    this.buf = b;
    this.wake();
  }
  markClosed(reason: string): void {
    this.closedReason = reason;
    this.wake();
  }
  reopen(): void {
    this.closedReason = null;
    this.consume(EMPTY);
  }
  get closed(): boolean {
    return this.closedReason !== null;
  }
  get length(): number {
    return this.buf.length;
  }
  /** Everything received so far, removed from the buffer. */
  drain(): Buffer {
    const b = this.buf;
    this.consume(EMPTY);
    return b;
  }
  private wake(): void {
    if (this.waiters.length === 0) return;
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.resolve(true);
    // Nobody waits: the armed deadline must not keep the process alive.
    this.timer?.unref();
  }
  /** Wait for new data or close, until `at` (a `Date.now()` time). Resolves false at `at`. */
  private waitUntil(at: number): Promise<boolean> {
    return new Promise((resolve) => {
      this.waiters.push({ at, resolve });
      if (this.timer && this.timerAt <= at) this.timer.ref();
      else this.arm(at);
    });
  }
  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onDeadline, Math.max(0, at - Date.now()));
  }
  private readonly onDeadline = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    const now = Date.now();
    const left: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.at <= now) w.resolve(false);
      else left.push(w);
    }
    this.waiters = left;
    if (left.length) this.arm(Math.min(...left.map((w) => w.at)));
  };

  /**
   * Read up to and including the first match of any of `markers`; returns the bytes before it
   * and which marker matched. Throws LinkTimeoutError at the deadline, LinkClosedError on close.
   */
  async readUntilAny(markers: (string | Uint8Array)[], deadline: number, phase: string): Promise<{ data: Buffer; marker: number }> {
    const longest = Math.max(...markers.map((m) => m.length));
    // Bytes already searched without a match need not be searched again (but for a marker's width).
    let from = 0;
    let takings = this.takings;
    for (;;) {
      if (this.takings !== takings) [from, takings] = [0, this.takings];
      let best = -1;
      let at = Infinity;
      for (let i = 0; i < markers.length; i++) {
        const m = markers[i]!;
        const p = typeof m === 'string' ? this.buf.indexOf(m, from, 'latin1') : this.buf.indexOf(m, from);
        if (p >= 0 && p < at) {
          at = p;
          best = i;
        }
      }
      if (best >= 0) {
        const data = Buffer.from(this.buf.subarray(0, at));
        this.consume(this.buf.subarray(at + markers[best]!.length));
        return { data, marker: best };
      }
      from = Math.max(0, this.buf.length - longest + 1);
      if (this.closedReason) throw new LinkClosedError(`${this.name}: link closed while waiting (${phase}): ${this.closedReason}`, phase);
      if (deadline - Date.now() <= 0) {
        const tail = this.buf.subarray(Math.max(0, this.buf.length - 80)).toString('latin1');
        throw new LinkTimeoutError(`${this.name}: no answer within the deadline (${phase}); last bytes ${JSON.stringify(tail)}`, phase);
      }
      await this.waitUntil(deadline);
    }
  }

  async readUntil(marker: string | Uint8Array, deadline: number, phase: string): Promise<Buffer> {
    return (await this.readUntilAny([marker], deadline, phase)).data;
  }

  /**
   * Reads one answer as `f` frames it: returns its bytes (a view of what was received, which
   * nobody changes) and removes them. One scan per arrival of data, one wait at a time: the
   * cheapest way to a multi-part answer. Throws as readUntil does, naming `f`'s phase then.
   */
  async readFrame(f: FrameReader): Promise<Buffer> {
    let takings = this.takings;
    for (;;) {
      if (this.takings !== takings && !this.closedReason) {
        takings = this.takings;
        f.restart();
      }
      const n = f.scan(this.buf);
      if (n >= 0) {
        const out = this.buf.subarray(0, n);
        this.consume(this.buf.subarray(n));
        return out;
      }
      if (this.closedReason) throw new LinkClosedError(`${this.name}: link closed while waiting (${f.phase}): ${this.closedReason}`, f.phase);
      if (f.deadline - Date.now() <= 0) {
        const tail = this.buf.subarray(Math.max(0, this.buf.length - 80)).toString('latin1');
        throw new LinkTimeoutError(`${this.name}: no answer within the deadline (${f.phase}); last bytes ${JSON.stringify(tail)}`, f.phase);
      }
      await this.waitUntil(f.deadline);
    }
  }

  async readExactly(n: number, deadline: number, phase: string): Promise<Buffer> {
    for (;;) {
      if (this.buf.length >= n) {
        const out = Buffer.from(this.buf.subarray(0, n));
        this.consume(this.buf.subarray(n));
        return out;
      }
      if (this.closedReason) throw new LinkClosedError(`${this.name}: link closed while waiting (${phase}): ${this.closedReason}`, phase);
      if (deadline - Date.now() <= 0) throw new LinkTimeoutError(`${this.name}: no answer within the deadline (${phase})`, phase);
      await this.waitUntil(deadline);
    }
  }

  /** Wait until nothing has arrived for `quietMs` (or `maxMs` passed); returns and removes what arrived. */
  async settle(quietMs: number, maxMs: number): Promise<Buffer> {
    const end = Date.now() + maxMs;
    while (Date.now() < end && !this.closedReason) {
      const changed = await this.waitUntil(Math.min(Date.now() + quietMs, end));
      if (!changed) break;
    }
    return this.drain();
  }
}
