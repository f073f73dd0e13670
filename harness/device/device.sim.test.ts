/**
 * The device layer against the simulated board over a real pty (CI), and against a scripted
 * test double for protocol edge cases real firmware does not produce on demand.
 */
import { readFileSync } from 'node:fs';
import { openDevice, DeviceExceptionError, ReplDevice } from './index.js';
import { querySealed } from './sealed.js';
import { startSim, type SimBoard } from '../sim/index.js';
import { LinkTimeoutError } from '../transport/errors.js';
import { ProtocolError } from '../repl/errors.js';
import { ScriptedBoard } from '../../test/doubles/scriptedBoard.js';
import { FaultProxy } from '../fault/faultProxy.js';
import type { Device } from './types.js';
import { TcpTransport } from '../transport/tcpTransport.js';
import { loadProfile } from '../profile/profile.js';

const demo = new Uint8Array(readFileSync('test/fixtures/romfs/demo.mpremote.img'));
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close().catch(() => undefined);
});
async function sim(opts: Partial<Parameters<typeof startSim>[0]> = {}): Promise<[SimBoard, Device]> {
  const b = await startSim({ profile: 'openmv-h7', image: demo, ...opts });
  open.push({ close: () => b.stop() });
  const d = await openDevice({ connection: b.connection, profile: 'openmv-h7', name: 'simcam' });
  open.push(d);
  return [b, d];
}

describe('device layer on the simulated board (pty)', () => {
  it('enters the raw REPL past a running main.py and its output', async () => {
    const [, d] = await sim({ mainPy: 'import time\nwhile True:\n    print("frame 640x480")\n    time.sleep_ms(20)\n' });
    expect(await d.exec('print("hello")')).toBe('hello\n');
  });

  it('keeps stdout and stderr apart and turns a traceback into a typed error', async () => {
    const [, d] = await sim();
    expect(await d.execRaw('print(1)\nimport sys\nprint(2)')).toEqual({ stdout: '1\n2\n', stderr: '' });
    const r = await d.execRaw('print("before")\nraise ValueError("bad model")');
    expect(r.stdout).toBe('before\n');
    expect(r.stderr).toMatch(/ValueError: bad model/);
    const err = await d.exec('import nosuchmodule').catch((e) => e);
    expect(err).toBeInstanceOf(DeviceExceptionError);
    expect(err.excType).toBe('ImportError');
    expect(err.traceback).toMatch(/Traceback/);
    expect(err.exitCode).toBe(1);
  });

  it('uses raw-paste, as the board answers it, for many-window programs, and plain raw mode in one write for short ones', async () => {
    const [, d] = await sim();
    await d.exec('pass');
    expect((d as ReplDevice).repl.rawPaste).toBe(true);
    const big = `x = ${JSON.stringify('a'.repeat(5000))}\nprint(len(x))`;
    expect(await d.exec(big)).toBe('5000\n');
    expect(await d.exec('print("small")')).toBe('small\n');
    const tx = d.transcript.records.filter((r) => r.dir === 'tx').map((r) => Buffer.from(r.data).toString('latin1'));
    expect(tx.filter((w) => w.startsWith('\x05A\x01')).length).toBeGreaterThan(0); // the long one
    expect(tx).toContain('print("small")\x04'); // the one-write path for code within a window
  });

  it('learns from the identity that the board inflates, and sends its long programs packed', async () => {
    const [, d] = await sim();
    expect((d as ReplDevice).identity?.inflate).toBe(true);
    expect((d as ReplDevice).sealedWrapper.inflate).toBe(true);
    const code = `import os\n${Array.from({ length: 30 }, (_, i) => `_t${i} = len(os.listdir('/rom')) + ${i}`).join('\n')}\n_hil_answer(_t29 - 29)`;
    const before = d.transcript.records.length;
    expect((await querySealed<number>(d as ReplDevice, code, { phase: 'test' })).value).toBeGreaterThan(0);
    const tx = d.transcript.records.slice(before).filter((r) => r.dir === 'tx').map((r) => Buffer.from(r.data).toString('latin1')).join('');
    expect(tx).toContain('"z":10');
    expect(tx).not.toContain("os.listdir('/rom')");
    expect(tx.length).toBeLessThan(code.length / 2);
  });

  it('evaluates JSON and honours deadlines, then recovers the board', async () => {
    const [, d] = await sim();
    expect(await d.evalJson("{'a': [1, 2], 'b': 'c'}")).toEqual({ a: [1, 2], b: 'c' });
    const err = await d.exec('import time\ntime.sleep(30)', { timeoutMs: 700 }).catch((e) => e);
    expect(err).toBeInstanceOf(LinkTimeoutError);
    expect(err.exitCode).toBe(3);
    expect(await d.exec('print("recovered")')).toBe('recovered\n');
  });

  it('soft resets (remounting /rom) and hard resets with reconnection by name', async () => {
    const [, d] = await sim();
    await d.exec('import sys\nsys.marker = 1');
    await d.softReset();
    expect(await d.evalJson("__import__('os').listdir('/rom')")).toContain('model.tflite');
    await d.hardReset();
    expect(await d.exec('print("after reset")')).toBe('after reset\n');
  });

  it('streams bytes through the binary channel intact, resuming from an offset', async () => {
    const [, d] = await sim();
    const data = new Uint8Array(20000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
    const recv = { setup: 'import hashlib\n_h = hashlib.sha256()\n_offs = []\ndef _sink(mv, off):\n    _offs.append(off)\n    _h.update(mv)', sink: '_sink', finish: 'import binascii\nprint(binascii.hexlify(_h.digest()).decode(), _offs[0], len(_offs))' };
    const progress: number[] = [];
    const r = await d.sendBinary(recv, data, { chunkSize: 1024, onProgress: (s) => progress.push(s) });
    const { createHash } = await import('node:crypto');
    expect(r.bytes).toBe(20000);
    expect(r.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(r.finishOutput.trim()).toBe(`${r.sha256} 0 20`);
    expect(progress[progress.length - 1]).toBe(20000);
    const again = await d.sendBinary(recv, data, { chunkSize: 4096, startOffset: 12288 });
    expect(again.bytes).toBe(20000 - 12288);
    expect(again.finishOutput.trim()).toBe(`${createHash('sha256').update(data.subarray(12288)).digest('hex')} 12288 2`);
  });

  it('recovers a board left waiting for binary frames by a hil process that died mid-transfer', async () => {
    const [b, d] = await sim();
    const rd = d as ReplDevice;
    const { channelProgram } = await import('../repl/binaryChannel.js');
    await rd.repl.exec('def _s(mv, off):\n    pass', 5000);
    await rd.repl.submit(channelProgram('_s', 100000, 0, 2048), 5000);
    await rd.transport.write(Buffer.from('HB\x00\x08', 'latin1')); // half a frame, then the host is gone
    await rd.transport.close();
    const d2 = await openDevice({ connection: b.connection, profile: 'openmv-h7', readyTimeoutMs: 10000 });
    open.push(d2);
    expect(await d2.exec('print("alive")')).toBe('alive\n');
  });

  it('ends the transfer program at once on a frame header whose length was damaged on the link', async () => {
    // Found by the run fault matrix: a flipped bit made a length larger than the frame buffer and
    // the board program spun forever with Ctrl-C disabled.
    const [, d] = await sim();
    const rd = d as ReplDevice;
    const { channelProgram } = await import('../repl/binaryChannel.js');
    await rd.repl.exec('def _s(mv, off):\n    pass', 5000);
    await rd.repl.submit(channelProgram('_s', 100000, 0, 2048), 5000);
    const deadline = Date.now() + 10000;
    await rd.transport.rx.readUntil('\x06', deadline, 'test');
    await rd.transport.write(Buffer.from('HB\x00\x88\x00\x00\x00\x00\x00\x00\x00\x00', 'latin1')); // a whole header; 0x8800 > 2048
    await rd.transport.rx.readUntil('\x04', deadline, 'test');
    const err = (await rd.transport.rx.readUntil('\x04', deadline, 'test')).toString('utf8');
    expect(err).toMatch(/HIL_CHANNEL bad frame length 34816 at 0/);
  });

  it('writes a byte-exact transcript of both directions', async () => {
    const [, d] = await sim();
    await d.exec('print("transcribed")');
    const rx = Buffer.concat(d.transcript.records.filter((r) => r.dir === 'rx').map((r) => r.data)).toString('latin1');
    const tx = Buffer.concat(d.transcript.records.filter((r) => r.dir === 'tx').map((r) => r.data)).toString('latin1');
    expect(tx).toContain('print("transcribed")\x04');
    expect(rx).toContain('OKtranscribed\n\x04\x04>');
  });
});

describe('hard reset whose acknowledgement is lost (simulated board over TCP, fault proxy)', () => {
  it('is a reset when the board comes back without the mark set before it; not one when the mark is still there', async () => {
    const b = await startSim({ profile: 'openmv-h7', image: demo, link: 'tcp' });
    open.push({ close: () => b.stop() });
    const proxy = await FaultProxy.start({ upstream: b.connection });
    open.push(proxy);
    const d = await openDevice({ connection: proxy.connection, profile: 'openmv-h7', name: 'simcam', readyTimeoutMs: 15000 });
    open.push(d);
    await d.exec('pass');
    // The board resets, but the rest of its raw-paste answer to machine.reset() never arrives.
    proxy.addRule({ when: { kind: 'pattern', dir: 'toHost', pattern: 'R\x01', nth: 3 }, do: { kind: 'truncate' } });
    await d.hardReset();
    expect(await d.exec('print("after reset")')).toBe('after reset\n');
    // The reset program never reaches the board whole: hil must not call that a reset.
    proxy.addRule({ when: { kind: 'pattern', dir: 'toBoard', pattern: 'machine.reset(' }, do: { kind: 'truncate' } });
    const e = await d.hardReset().catch((x: unknown) => x);
    expect(String((e as Error).message)).toMatch(/the board did not reset/);
  }, 90_000);
});

describe('raw REPL protocol edge cases (scripted test double over TCP)', () => {
  async function scripted(b: ConstructorParameters<typeof ScriptedBoard>[0]): Promise<[ScriptedBoard, string]> {
    const s = new ScriptedBoard(b);
    const conn = await s.start();
    open.push({ close: () => s.stop() });
    return [s, conn];
  }
  /**
   * The raw REPL over TCP without openDevice's identity query: the scripted double answers every
   * program with the same line, so it cannot say what board it is (these cases are about the REPL).
   */
  async function openRaw(conn: string, opts: { readyTimeoutMs?: number } = {}): Promise<ReplDevice> {
    const m = /^socket:\/\/([^:]+):(\d+)$/.exec(conn)!;
    const d = new ReplDevice({ name: conn, connection: conn, profile: loadProfile('openmv-h7'), transport: new TcpTransport(m[1]!, Number(m[2])) });
    try {
      await d.connect(opts.readyTimeoutMs ?? 15000);
    } catch (e) {
      await d.close().catch(() => undefined);
      throw e;
    }
    return d;
  }

  it('uses plain raw mode after the board answers R\\x00', async () => {
    const [, conn] = await scripted('rawpaste-refused');
    const d = await openRaw(conn);
    open.push(d);
    expect(await d.exec('print(1)')).toBe('scripted\r\n');
    expect((d as ReplDevice).repl.rawPaste).toBe(false);
  });

  it('falls back to plain raw mode when the board does not answer raw-paste, and remembers it', async () => {
    const [s, conn] = await scripted('rawpaste-silent');
    const d = await openRaw(conn);
    open.push(d);
    expect(await d.exec('print(1)')).toBe('scripted\r\n');
    expect((d as ReplDevice).repl.rawPaste).toBe(false);
    const asked = s.received.toString('latin1').split('\x05A\x01').length - 1;
    expect(await d.exec('print(2)')).toBe('scripted\r\n');
    expect(s.received.toString('latin1').split('\x05A\x01').length - 1).toBe(asked); // not asked again
  });

  it('drains banner noise and a half-typed line before entering raw mode', async () => {
    const [, conn] = await scripted('banner-noise');
    const d = await openRaw(conn);
    open.push(d);
    expect(await d.exec('print(1)')).toBe('scripted\r\n');
  });

  it('gives up on a silent board at the deadline with an infrastructure error', async () => {
    const [, conn] = await scripted('silent');
    const err = await openRaw(conn, { readyTimeoutMs: 2500 }).catch((e) => e);
    expect(err).toBeInstanceOf(LinkTimeoutError);
    expect(err.exitCode).toBe(3);
    expect(err.phase).toMatch(/raw-repl-entry|connect/);
  });

  it('reports garbage where OK belongs as a protocol error', async () => {
    const [, conn] = await scripted('garbage-ok');
    const d = await openRaw(conn);
    open.push(d);
    const err = await d.exec('x = 1', { timeoutMs: 3000 }).catch((e) => e);
    expect(err).toBeInstanceOf(ProtocolError);
  });
});
