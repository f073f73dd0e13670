/**
 * TEST DOUBLE (not hil's device layer): a minimal raw-REPL client over TCP implementing the Device
 * contract, so flash tests can drive real MicroPython under QEMU when harness/device is absent.
 * Plain raw mode (no raw-paste), code sent in 256-byte pieces, a simple binary channel (exact-length
 * chunks, each framed `HC` + u16 length + crc32, read with kbd_intr(-1), one ack byte per chunk,
 * sha256 at the end). After the link drops, the next call reconnects and sends zeros so a receiver
 * waiting mid-chunk fails its frame check and returns to the raw REPL. No hard reset, no transcript. Tests use harness/device's openDevice whenever it exists.
 */
import { connect, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Device, BinaryReceiver, BinaryTransferOptions } from '../../harness/device/types.js';
import type { BoardProfile } from '../../harness/profile/profile.js';
import { InfraError } from '../../harness/errors.js';

export class TcpRawReplDouble implements Device {
  private buf = Buffer.alloc(0);
  private wake: (() => void) | null = null;
  private sock!: Socket;
  transcript = { records: [], writeTo: async () => {} };
  constructor(readonly name: string, readonly profile: BoardProfile, readonly connection: string) {}
  static async open(port: number, profile: BoardProfile, name = 'qemu-double'): Promise<TcpRawReplDouble> {
    const d = new TcpRawReplDouble(name, profile, `socket://127.0.0.1:${port}`);
    await d.connect(port);
    return d;
  }
  private closed = false;
  private port = 0;
  private maxChunk = 0;
  private async reconnect() {
    this.closed = false;
    this.buf = Buffer.alloc(0);
    this.sock = await new Promise<Socket>((res, rej) => { const s = connect({ host: '127.0.0.1', port: this.port }, () => res(s)); s.on('error', rej); });
    this.sock.setNoDelay(true);
    this.sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.wake?.(); });
    this.sock.on('close', () => { this.closed = true; this.wake?.(); });
    this.sock.on('error', () => {});
    // A receiver waiting mid-chunk reads these zeros, fails its frame check and ends.
    if (this.maxChunk) this.sock.write(Buffer.alloc(this.maxChunk + 8));
    await new Promise((r) => setTimeout(r, 300));
    this.sock.write('\r\x03\x03');
    await new Promise((r) => setTimeout(r, 300));
    this.buf = Buffer.alloc(0);
    this.sock.write('\x01');
    await this.readUntil('raw REPL; CTRL-B to exit\r\n>', 5000);
  }
  private async connect(port: number) {
    this.port = port;
    return this.reconnect();
  }
  private async readUntil(marker: string, timeoutMs: number): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const i = this.buf.indexOf(marker, 0, 'latin1');
      if (i >= 0) { const out = this.buf.subarray(0, i).toString('latin1'); this.buf = this.buf.subarray(i + marker.length); return out; }
      if (this.closed) throw new InfraError('link closed', 'link');
      const left = end - Date.now();
      if (left <= 0) throw new InfraError(`timeout waiting for ${JSON.stringify(marker)}; have ${JSON.stringify(this.buf.toString('latin1').slice(-200))}`, 'exec');
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.wake = () => { clearTimeout(t); r(); }; });
    }
  }
  /** null when the chunk ack arrived; the program's stdout when it ended instead (an exception). */
  private async readUntilAck(timeoutMs: number): Promise<string | null> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const a = this.buf.indexOf(0x06);
      const e = this.buf.indexOf(0x04);
      if (a >= 0 && (e < 0 || a < e)) { this.buf = this.buf.subarray(a + 1); return null; }
      if (e >= 0) { const out = this.buf.subarray(0, e).toString('latin1'); this.buf = this.buf.subarray(e + 1); return out; }
      if (this.closed) throw new InfraError('link closed during transfer', 'transfer');
      const left = end - Date.now();
      if (left <= 0) throw new InfraError('timeout waiting for a chunk ack', 'transfer');
      await new Promise<void>((r) => { const t = setTimeout(r, left); this.wake = () => { clearTimeout(t); r(); }; });
    }
  }
  private async start(code: string) {
    if (this.closed) await this.reconnect();
    const b = Buffer.from(code);
    for (let o = 0; o < b.length; o += 256) { this.sock.write(b.subarray(o, o + 256)); await new Promise((r) => setTimeout(r, 2)); }
    this.sock.write('\x04');
    await this.readUntil('OK', 5000);
  }
  async execRaw(code: string, opts: { timeoutMs?: number } = {}) {
    await this.start(code);
    const stdout = await this.readUntil('\x04', opts.timeoutMs ?? 20000);
    const stderr = await this.readUntil('\x04>', 5000);
    return { stdout, stderr };
  }
  async exec(code: string, opts: { timeoutMs?: number } = {}) {
    const r = await this.execRaw(code, opts);
    if (r.stderr) { const e = new InfraError(r.stderr.trim().split('\n').pop()!, 'exec'); e.name = 'DeviceExceptionError'; throw e; }
    return r.stdout;
  }
  async evalJson<T>(expr: string): Promise<T> { return JSON.parse(await this.exec(`import json\nprint(json.dumps(${expr}))`)) as T; }
  async sendBinary(rec: BinaryReceiver, data: Uint8Array, opts: BinaryTransferOptions = {}) {
    const t0 = performance.now();
    const cs = opts.chunkSize ?? 1024;
    this.maxChunk = Math.max(this.maxChunk, cs);
    await this.exec(rec.setup);
    await this.start(`
import sys, micropython, hashlib, binascii
micropython.kbd_intr(-1)
_h = hashlib.sha256()
_off = 0
try:
    while _off < ${data.length}:
        _hd = sys.stdin.buffer.read(8)
        while len(_hd) < 8:
            _hd += sys.stdin.buffer.read(8 - len(_hd))
        if _hd[0] != 0x48 or _hd[1] != 0x43:
            raise OSError('HIL_FRAME_LOST')
        _k = _hd[2] | (_hd[3] << 8)
        _b = sys.stdin.buffer.read(_k)
        while len(_b) < _k:
            _b += sys.stdin.buffer.read(_k - len(_b))
        if binascii.crc32(_b) != int.from_bytes(_hd[4:8], 'little'):
            raise OSError('HIL_FRAME_CRC')
        _h.update(_b)
        ${rec.sink}(memoryview(_b), _off)
        _off += _k
        sys.stdout.write('\\x06')
finally:
    micropython.kbd_intr(3)
print(binascii.hexlify(_h.digest()).decode())
`);
    for (let o = 0; o < data.length; o += cs) {
      const piece = data.subarray(o, o + cs);
      const hd = Buffer.alloc(8);
      hd.write('HC', 0, 'latin1');
      hd.writeUInt16LE(piece.length, 2);
      hd.writeUInt32LE(crc32(piece), 4);
      this.sock.write(Buffer.concat([hd, piece]));
      const before = await this.readUntilAck(20000);
      if (before !== null) {
        const err = await this.readUntil('\x04>', 5000).catch(() => '');
        const e = new InfraError(`${before}${err}`.trim().split('\n').pop()!, 'transfer');
        e.name = 'DeviceExceptionError';
        throw e;
      }
      opts.onProgress?.(Math.min(o + cs, data.length), data.length);
    }
    const out = await this.readUntil('\x04', 20000);
    const err = await this.readUntil('\x04>', 5000);
    if (err) { const e = new InfraError(err.trim().split('\n').pop()!, 'transfer'); e.name = 'DeviceExceptionError'; throw e; }
    const sha = out.trim();
    if (sha !== createHash('sha256').update(data).digest('hex')) throw new InfraError('hash mismatch', 'transfer');
    const fin = rec.finish ? await this.exec(rec.finish) : '';
    return { bytes: data.length, sha256: sha, finishOutput: fin, elapsedMs: performance.now() - t0 };
  }
  async softReset() { this.sock.write('\x04'); await this.readUntil('raw REPL; CTRL-B to exit\r\n>', 10000).catch(() => {}); await this.readUntil('>', 100).catch(() => {}); }
  async hardReset(): Promise<void> { throw new Error('TcpRawReplDouble: hard reset not supported (test double)'); }
  async close() { this.sock.destroy(); }
}
