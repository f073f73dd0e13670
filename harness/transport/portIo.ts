/**
 * Bytes in and out of an open serial port (USB CDC, UART adapter, pty) on the event loop's own
 * thread. serialport's stream reads and writes through libuv's thread pool (an `fs.read` that
 * answers EAGAIN, a poll, then an `fs.read` again; an `fs.write` per write), so every byte the
 * board sends costs several thread hand-offs, each a scheduling delay on a loaded machine.
 * Here the port's descriptor (opened non-blocking by serialport's binding, which also sets the
 * termios and takes the exclusive lock) is read with `readSync` when its poller says readable,
 * and written with `writeSync`, waiting for writable only when the kernel's buffer is full.
 * Where the port's path can be opened a second time, its bytes are read through that second
 * descriptor, which stays registered with the event loop (ttyReader.ts: no re-poll per read);
 * the poller then only waits for writable. Reads stay event-driven: nothing polls for "bytes waiting".
 */
import { readSync, writeSync } from 'node:fs';
import { openTtyReader, type TtyReader } from './ttyReader.js';

/** What serialport's Unix binding gives for an open port (its descriptor and its poller). */
export interface UnixPortBinding {
  fd: number | null;
  poller: {
    on(event: 'readable' | 'writable' | 'disconnect', fn: (err: Error | null) => void): unknown;
    removeAllListeners(event?: string): unknown;
    poll(flags: number): void;
  };
  close(): Promise<void>;
}

const READABLE = 0b0001;
const WRITABLE = 0b0010;
const DISCONNECT = 0b0100;

/** Errors of read/write that mean the port is gone (closed under us, unplugged, pty master exited). */
function isGone(code: string | undefined): boolean {
  return code === 'EIO' || code === 'ENXIO' || code === 'EBADF' || code === 'ENODEV' || code === 'EPIPE' || code === 'UNKNOWN';
}

export function isUnixPortBinding(b: unknown): b is UnixPortBinding {
  const x = b as Partial<UnixPortBinding> | null;
  return !!x && typeof x.fd === 'number' && !!x.poller && typeof x.poller.poll === 'function';
}

export class PortIo {
  private readonly buf = Buffer.allocUnsafe(64 * 1024);
  private writers: (() => void)[] = [];
  private stopped = false;
  /** The port's bytes come through here when it could be opened (else through the poller). */
  private readonly reader: TtyReader | null;

  /** `path`: the port's path, opened a second time for reading (ttyReader.ts); absent: read through the poller. */
  constructor(
    private readonly b: UnixPortBinding,
    private readonly onData: (data: Buffer) => void,
    private readonly onGone: (reason: string) => void,
    path?: string,
  ) {
    b.poller.on('readable', (err) => this.onEvent(err, READABLE));
    b.poller.on('writable', (err) => this.onEvent(err, WRITABLE));
    b.poller.on('disconnect', (err) => this.onEvent(err, DISCONNECT));
    this.reader = path === undefined ? null : openTtyReader(
      path,
      (d) => {
        if (!this.stopped) this.onData(d);
      },
      (reason) => this.gone(reason),
    );
    this.arm();
  }

  /** Whether the bytes are read through a second descriptor (ttyReader.ts) rather than the poller. */
  get readsThroughTty(): boolean {
    return this.reader !== null;
  }

  /**
   * Poll for what is wanted now: readable (unless the tty reader reads) and writable while a
   * write waits. With the reader and no write waiting, nothing: the poller's native side has
   * already dropped the event that fired (@serialport/bindings-cpp src/poller.cpp, Poller::onData).
   */
  private arm(): void {
    if (this.stopped || this.b.fd === null) return;
    const want = (this.reader ? 0 : READABLE | DISCONNECT) | (this.writers.length ? WRITABLE : 0);
    if (want !== 0) this.b.poller.poll(want);
  }

  private onEvent(err: Error | null, what: number): void {
    if (this.stopped) return;
    if (err) return this.gone(err.message);
    if (what === WRITABLE) {
      const w = this.writers;
      this.writers = [];
      for (const f of w) f();
    } else this.drainInput();
    this.arm();
  }

  /** Everything the kernel holds for us, read now (a non-blocking descriptor answers EAGAIN when empty). */
  private drainInput(): void {
    for (;;) {
      const fd = this.b.fd;
      if (fd === null || this.stopped) return;
      let n: number;
      try {
        n = readSync(fd, this.buf, 0, this.buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR') return;
        return this.gone(`read failed: ${code ?? (e as Error).message}`);
      }
      // End of file on a tty: the other side hung up.
      if (n === 0) return this.gone('read: end of file');
      this.onData(Buffer.from(this.buf.subarray(0, n)));
      if (n < this.buf.length) return;
    }
  }

  private gone(reason: string): void {
    if (this.stopped) return;
    this.stop();
    this.onGone(reason);
  }

  /**
   * Write all of `data`: `true` when the kernel took it at once (the usual case: no promise, no
   * wait), else a promise that resolves once it has taken the rest. Throws (or rejects) with
   * the errno's code when the port is gone.
   */
  write(data: Buffer): true | Promise<void> {
    const off = this.writeNow(data, 0);
    return off === data.length ? true : this.writeRest(data, off);
  }

  /** Writes what the kernel takes now, from `off`; returns how far it got. */
  private writeNow(data: Buffer, off: number): number {
    while (off < data.length) {
      const fd = this.b.fd;
      if (fd === null || this.stopped) throw new Error('port closed');
      try {
        off += writeSync(fd, data, off, data.length - off);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EINTR') continue;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return off;
        if (isGone(code)) this.gone(`write failed: ${code}`);
        throw new Error(code ?? (e as Error).message);
      }
    }
    return off;
  }

  /** The kernel's buffer is full: wait until the port is writable (or closed), write on. */
  private async writeRest(data: Buffer, off: number): Promise<void> {
    while (off < data.length) {
      await new Promise<void>((resolve) => {
        this.writers.push(resolve);
        this.arm();
      });
      off = this.writeNow(data, off);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const w = this.writers;
    this.writers = [];
    for (const f of w) f();
  }

  /** Stop reading and close the port (its lock goes with the descriptor, closed last). */
  async close(): Promise<void> {
    this.stop();
    this.b.poller.removeAllListeners();
    await this.reader?.close();
    if (this.b.fd !== null) await this.b.close().catch(() => undefined);
  }
}
