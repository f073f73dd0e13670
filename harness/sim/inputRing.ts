/**
 * A single-producer, single-consumer byte ring in a SharedArrayBuffer. The simulated board's
 * reader thread fills it from the serial line with blocking reads; the interpreter thread takes
 * bytes with Atomics.wait, so a running Python program can block on input with a deadline (the
 * way a program on a real board blocks on its UART) without polling.
 */
const HDR = 4; // [write, read, eof, spare] as Int32
export const RING_SIZE = 1 << 20;

export class InputRing {
  readonly hdr: Int32Array;
  readonly data: Uint8Array;
  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(HDR * 4 + RING_SIZE)) {
    this.hdr = new Int32Array(sab, 0, HDR);
    this.data = new Uint8Array(sab, HDR * 4, RING_SIZE);
  }
  available(): number {
    return (Atomics.load(this.hdr, 0) - Atomics.load(this.hdr, 1)) | 0;
  }
  eof(): boolean {
    return Atomics.load(this.hdr, 2) === 1 && this.available() === 0;
  }
  /** Producer: append bytes, waiting while the ring is full. */
  push(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      const w = Atomics.load(this.hdr, 0);
      const free = RING_SIZE - ((w - Atomics.load(this.hdr, 1)) | 0);
      if (free === 0) {
        Atomics.wait(this.hdr, 1, Atomics.load(this.hdr, 1), 50);
        continue;
      }
      const n = Math.min(free, bytes.length - i);
      for (let k = 0; k < n; k++) this.data[(w + k) & (RING_SIZE - 1)] = bytes[i + k]!;
      Atomics.store(this.hdr, 0, (w + n) | 0);
      Atomics.notify(this.hdr, 0);
      i += n;
    }
  }
  markEof(): void {
    Atomics.store(this.hdr, 2, 1);
    Atomics.notify(this.hdr, 0);
  }
  /** Consumer: wait up to `ms` for at least one byte; true when one is there. */
  waitForData(ms: number): boolean {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.available() > 0) return true;
      if (Atomics.load(this.hdr, 2) === 1) return false;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      Atomics.wait(this.hdr, 0, Atomics.load(this.hdr, 0), left);
    }
  }
  peek(i = 0): number {
    return this.data[(Atomics.load(this.hdr, 1) + i) & (RING_SIZE - 1)]!;
  }
  /** Consumer: take up to `max` bytes that are already there. */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.available());
    const r = Atomics.load(this.hdr, 1);
    const out = new Uint8Array(n);
    for (let k = 0; k < n; k++) out[k] = this.data[(r + k) & (RING_SIZE - 1)]!;
    Atomics.store(this.hdr, 1, (r + n) | 0);
    Atomics.notify(this.hdr, 1);
    return out;
  }
}
