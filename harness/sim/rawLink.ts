/**
 * A raw-REPL client just big enough for the simulated board's own tests (not hil's engine): it
 * drives the board byte by byte through `serialport` (pty) or a socket (TCP), so these tests do
 * not depend on hil's device layer.
 */
import { createConnection, type Socket } from 'node:net';
import { SerialPort } from 'serialport';

export class RawLink {
  private rx = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  constructor(
    private readonly write: (b: Buffer | string) => void,
    readonly close: () => Promise<void>,
    /** Stop taking bytes off the link (they wait in the kernel and the board's side), and go on. */
    readonly pause: () => void = () => undefined,
    readonly resume: () => void = () => undefined,
  ) {}
  static async serial(path: string): Promise<RawLink> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    const l = new RawLink((b) => port.write(b), () => new Promise((res) => (port.isOpen ? port.close(() => res()) : res())), () => port.pause(), () => port.resume());
    port.on('data', (d: Buffer) => l.feed(d));
    port.on('error', () => undefined);
    return l;
  }
  static async tcp(conn: string): Promise<RawLink> {
    const [host, port] = conn.replace('socket://', '').split(':');
    const sock: Socket = await new Promise((res, rej) => {
      const s = createConnection({ host, port: Number(port) }, () => res(s));
      s.on('error', rej);
    });
    const l = new RawLink((b) => sock.write(b), async () => void sock.destroy(), () => sock.pause(), () => sock.resume());
    sock.on('data', (d) => l.feed(d));
    return l;
  }
  feed(d: Buffer): void {
    this.rx = Buffer.concat([this.rx, d]);
    for (const w of this.waiters.splice(0)) w();
  }
  send(b: Buffer | string): void {
    this.write(b);
  }
  drain(): Buffer {
    const r = this.rx;
    this.rx = Buffer.alloc(0);
    return r;
  }
  async until(marker: string | Buffer, ms = 30000): Promise<Buffer> {
    const m = Buffer.from(marker as string, 'latin1');
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.rx.indexOf(m);
      if (i >= 0) {
        const out = this.rx.subarray(0, i + m.length);
        this.rx = this.rx.subarray(i + m.length);
        return out;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${JSON.stringify(marker)}; have ${JSON.stringify(this.rx.toString('latin1'))}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }
  async enterRaw(): Promise<void> {
    this.send('\r\x03\x03');
    await new Promise((r) => setTimeout(r, 100));
    this.drain();
    this.send('\x01');
    await this.until('raw REPL; CTRL-B to exit\r\n>');
  }
  /** Plain raw mode: code, Ctrl-D; returns [stdout, stderr]. */
  async exec(code: string, extra?: Buffer): Promise<[string, string]> {
    this.send(code + '\x04');
    await this.until('OK');
    if (extra) this.send(extra);
    const out = (await this.until('\x04')).subarray(0, -1).toString('latin1');
    const err = (await this.until('\x04')).subarray(0, -1).toString('latin1');
    await this.until('>');
    return [out, err];
  }
  async json<T = unknown>(code: string): Promise<T> {
    const [out, err] = await this.exec(`import json\n${code}`);
    if (err) throw new Error(err);
    return JSON.parse(Buffer.from(out, 'latin1').toString('utf8')) as T; // MicroPython's json writes UTF-8 as is
  }
}

