/**
 * Received bytes with awaitable, deadline-bound reads. Data arrives through events (no polling
 * for "bytes waiting", which misreports on ptys); readers wait on a promise woken by new data.
 */
import { LinkClosedError, LinkTimeoutError } from './errors.js';

export class RxBuffer {
  private buf: Buffer = Buffer.alloc(0);
  private waiters = new Set<() => void>();
  private closedReason: string | null = null;

  constructor(private readonly name: string) {}

  push(data: Uint8Array): void {
    this.buf = this.buf.length === 0 ? Buffer.from(data) : Buffer.concat([this.buf, data]);
    this.wake();
  }
  markClosed(reason: string): void {
    this.closedReason = reason;
    this.wake();
  }
  reopen(): void {
    this.closedReason = null;
    this.buf = Buffer.alloc(0);
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
    this.buf = Buffer.alloc(0);
    return b;
  }
  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
  /** Wait for new data or close, up to `ms`. Resolves false on timeout. */
  private waitForChange(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (v: boolean) => {
        clearTimeout(t);
        this.waiters.delete(w);
        resolve(v);
      };
      const w = () => done(true);
      const t = setTimeout(() => done(false), Math.max(0, ms));
      this.waiters.add(w);
    });
  }

  /**
   * Read up to and including the first match of any of `markers`; returns the bytes before it
   * and which marker matched. Throws LinkTimeoutError at the deadline, LinkClosedError on close.
   */
  async readUntilAny(markers: (string | Uint8Array)[], deadline: number, phase: string): Promise<{ data: Buffer; marker: number }> {
    const ms = markers.map((m) => (typeof m === 'string' ? Buffer.from(m, 'latin1') : Buffer.from(m)));
    for (;;) {
      let best = -1;
      let at = Infinity;
      for (let i = 0; i < ms.length; i++) {
        const p = this.buf.indexOf(ms[i]!);
        if (p >= 0 && p < at) {
          at = p;
          best = i;
        }
      }
      if (best >= 0) {
        const data = this.buf.subarray(0, at);
        this.buf = this.buf.subarray(at + ms[best]!.length);
        return { data: Buffer.from(data), marker: best };
      }
      if (this.closedReason) throw new LinkClosedError(`${this.name}: link closed while waiting (${phase}): ${this.closedReason}`, phase);
      const left = deadline - Date.now();
      if (left <= 0) {
        const tail = this.buf.subarray(Math.max(0, this.buf.length - 80)).toString('latin1');
        throw new LinkTimeoutError(`${this.name}: no answer within the deadline (${phase}); last bytes ${JSON.stringify(tail)}`, phase);
      }
      await this.waitForChange(left);
    }
  }

  async readUntil(marker: string | Uint8Array, deadline: number, phase: string): Promise<Buffer> {
    return (await this.readUntilAny([marker], deadline, phase)).data;
  }

  async readExactly(n: number, deadline: number, phase: string): Promise<Buffer> {
    for (;;) {
      if (this.buf.length >= n) {
        const out = Buffer.from(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n);
        return out;
      }
      if (this.closedReason) throw new LinkClosedError(`${this.name}: link closed while waiting (${phase}): ${this.closedReason}`, phase);
      const left = deadline - Date.now();
      if (left <= 0) throw new LinkTimeoutError(`${this.name}: no answer within the deadline (${phase})`, phase);
      await this.waitForChange(left);
    }
  }

  /** Wait until nothing has arrived for `quietMs` (or `maxMs` passed); returns and removes what arrived. */
  async settle(quietMs: number, maxMs: number): Promise<Buffer> {
    const end = Date.now() + maxMs;
    while (Date.now() < end && !this.closedReason) {
      const changed = await this.waitForChange(Math.min(quietMs, end - Date.now()));
      if (!changed) break;
    }
    return this.drain();
  }
}
