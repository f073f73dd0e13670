/** TCP link: QEMU's tcp serial, ser2net in raw mode, Arm FVP ports. No-delay is set (Nagle off). */
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

  private connectOnce(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = createConnection({ host: this.host, port: this.port });
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error('connect timed out'));
      }, ms);
      s.once('connect', () => {
        clearTimeout(t);
        s.setNoDelay(true);
        this.sock = s;
        this.rx.reopen();
        s.on('data', (d) => {
          this.onTraffic?.('rx', d);
          this.rx.push(d);
        });
        s.on('close', () => this.rx.markClosed('connection closed'));
        s.on('error', (e) => this.rx.markClosed(e.message));
        resolve();
      });
      s.once('error', (e) => {
        clearTimeout(t);
        reject(e);
      });
    });
  }

  async write(data: Uint8Array | string): Promise<void> {
    const s = this.sock;
    if (!s) throw new LinkOpenError(`${this.description}: not connected`, 'write');
    // Open once and gone now: the link dropped (a link fault, retried like any other).
    if (s.destroyed) throw new LinkClosedError(`${this.description}: connection closed`, 'write');
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
    this.onTraffic?.('tx', b);
    await new Promise<void>((resolve, reject) => s.write(b, (err) => (err ? reject(new LinkClosedError(`${this.description}: write failed: ${err.message}`, 'write')) : resolve())));
  }

  async close(): Promise<void> {
    const s = this.sock;
    this.sock = null;
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.destroy();
      });
    }
    this.rx.markClosed('closed by hil');
  }
}
