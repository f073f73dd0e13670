/**
 * TCP link: QEMU's tcp serial, ser2net in raw mode, Arm FVP ports. No-delay is set (Nagle off).
 * The socket part (connect with a deadline, write awaiting the kernel, close awaiting the socket's
 * end) is shared with the RFC 2217 link (rfc2217/rfc2217Transport.ts), which adds telnet on top.
 */
import { createConnection, type Socket } from 'node:net';
import { RxBuffer } from './rxBuffer.js';
import { LinkClosedError, LinkOpenError, LinkTimeoutError } from './errors.js';
import type { Transport } from './transport.js';

export class TcpTransport implements Transport {
  readonly rx: RxBuffer;
  readonly description: string;
  private sock: Socket | null = null;
  onTraffic?: (dir: 'tx' | 'rx', data: Uint8Array) => void;

  constructor(readonly host: string, readonly port: number) {
    this.description = `socket://${host}:${port}`;
    this.rx = new RxBuffer(this.description);
  }

  get isOpen(): boolean {
    return this.sock !== null && !this.sock.destroyed;
  }

  async open(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    let last = '';
    for (;;) {
      try {
        await this.connectOnce(Math.max(100, deadline - Date.now()));
        return;
      } catch (e) {
        last = (e as Error).message;
        // Nothing listens there: say so at once rather than at the deadline.
        if ((e as NodeJS.ErrnoException).code === 'ECONNREFUSED') throw new LinkOpenError(`${this.description}: connection refused (nothing listens there)`, 'connect');
      }
      if (Date.now() >= deadline) throw new LinkTimeoutError(`${this.description}: cannot connect: ${last}`, 'connect');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async connectOnce(ms: number): Promise<void> {
    const s = await connectSocket(this.host, this.port, ms);
    this.sock = s;
    this.rx.reopen();
    s.on('data', (d) => {
      this.onTraffic?.('rx', d);
      this.rx.push(d);
    });
    s.on('close', () => this.rx.markClosed('connection closed'));
    s.on('error', (e) => this.rx.markClosed(e.message));
  }

  async write(data: Uint8Array | string): Promise<void> {
    const s = this.sock;
    if (!s) throw new LinkOpenError(`${this.description}: not connected`, 'write');
    // Open once and gone now: the link dropped (a link fault, retried like any other).
    if (s.destroyed) throw new LinkClosedError(`${this.description}: connection closed`, 'write');
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
    this.onTraffic?.('tx', b);
    await writeSocket(s, b, this.description);
  }

  async close(): Promise<void> {
    const s = this.sock;
    this.sock = null;
    await destroySocket(s);
    this.rx.markClosed('closed by hil');
  }
}

/**
 * A TCP connection to host:port within `ms`, no-delay set (every write goes out at once: the raw
 * REPL is request/answer). Rejects with the socket's error (ECONNREFUSED, ...) or a timeout.
 */
export function connectSocket(host: string, port: number, ms: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error('connect timed out'));
    }, ms);
    s.once('connect', () => {
      clearTimeout(t);
      s.setNoDelay(true);
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

/** Write `b`, resolved once the kernel took it; a failure is LinkClosedError naming the link. */
export function writeSocket(s: Socket, b: Uint8Array, description: string): Promise<void> {
  return new Promise<void>((resolve, reject) => s.write(b, (err) => (err ? reject(new LinkClosedError(`${description}: write failed: ${err.message}`, 'write')) : resolve())));
}

/** Destroy `s` and wait until it has closed (nothing to do for a socket already gone). */
export async function destroySocket(s: Socket | null | undefined): Promise<void> {
  if (!s || s.destroyed) return;
  await new Promise<void>((resolve) => {
    s.once('close', () => resolve());
    s.destroy();
  });
}
