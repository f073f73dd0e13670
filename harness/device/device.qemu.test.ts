/**
 * The device layer against real MicroPython under qemu-system-arm (MPS2_AN385). Needs
 * HIL_QEMU_FIRMWARE (a firmware.elf the user built from MicroPython's ports/qemu); without it the
 * firmware tests skip with the reason printed. The missing-firmware and missing-binary errors
 * are tested always.
 */
import { readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { openDevice, type ReplDevice } from './index.js';
import type { Device } from './types.js';

const firmware = process.env.HIL_QEMU_FIRMWARE;
const have = !!firmware && existsSync(firmware);
if (!have) console.log(`device.qemu.test: real-firmware tests skipped: HIL_QEMU_FIRMWARE ${firmware ? `(${firmware}) does not exist` : 'is not set'}`);

describe('QEMU resource errors (no firmware needed)', () => {
  it('says what to set when no firmware is given', async () => {
    const saved = process.env.HIL_QEMU_FIRMWARE;
    delete process.env.HIL_QEMU_FIRMWARE;
    try {
      const err = await openDevice({ connection: 'qemu', profile: 'qemu-mps2-an385' }).catch((e) => e);
      expect(err.message).toMatch(/set HIL_QEMU_FIRMWARE/);
      expect(err.exitCode).toBe(2);
    } finally {
      if (saved !== undefined) process.env.HIL_QEMU_FIRMWARE = saved;
    }
  });
  it('refuses a profile that is not a QEMU board', async () => {
    const err = await openDevice({ connection: 'qemu', profile: 'openmv-h7', firmware: '/nonexistent.elf' }).catch((e) => e);
    expect(err.message).toMatch(/not a QEMU board/);
  });
  it('starts qemu-system-arm and reports a firmware that dies before the REPL as an infrastructure error naming the exit', async () => {
    // /dev/null as the kernel: QEMU starts, gives a pty, then aborts ("Lockup"). Its pty number is
    // free at once and may be taken by another program (in CI, a simulated board's socat): hil must
    // not open it then. Once this test saw hil connect to such a board and succeed.
    const err = await openDevice({ connection: 'qemu', profile: 'qemu-mps2-an385', firmware: '/dev/null', readyTimeoutMs: 3000 }).catch((e) => e);
    expect({ error: err?.constructor?.name, exitCode: err?.exitCode }).toEqual({ error: 'LinkGoneError', exitCode: 3 });
    expect(String(err.message)).toMatch(/qemu-system-arm exited \(signal SIGABRT\): qemu: fatal: Lockup/);
  });
});

(have ? describe : describe.skip)('device layer on real MicroPython under QEMU', () => {
  let d: Device;
  beforeAll(async () => {
    d = await openDevice({ connection: 'qemu', profile: 'qemu-mps2-an385', image: 'test/fixtures/romfs/demo.mpremote.img', firmware });
  }, 60000);
  afterAll(async () => d?.close());

  it('uses raw-paste on firmware that supports it, with stdout and tracebacks apart', async () => {
    expect(await d.exec('print(6 * 7)')).toBe('42\r\n');
    expect((d as ReplDevice).repl.rawPaste).toBe(true);
    const r = await d.execRaw('1/0');
    expect(r.stderr).toMatch(/ZeroDivisionError/);
  });
  it('sees the image loaded into the ROMFS partition', async () => {
    expect(await d.evalJson("sorted(__import__('os').listdir('/rom'))")).toEqual(['app', 'config.json', 'labels.txt', 'lib', 'model.tflite', 'templates']);
  });
  it('streams through the binary channel intact', async () => {
    const data = new Uint8Array(readFileSync('test/fixtures/models/micro_speech.tflite'));
    const r = await d.sendBinary({ setup: 'import hashlib\n_h = hashlib.sha256()\ndef _s(mv, off):\n    _h.update(mv)', sink: '_s', finish: 'import binascii\nprint(binascii.hexlify(_h.digest()).decode())' }, data, { chunkSize: 1024 });
    const want = createHash('sha256').update(data).digest('hex');
    expect(r.sha256).toBe(want);
    expect(r.finishOutput.trim()).toBe(want);
  });
  it('restarts QEMU with a new image for the qemu-loader flash strategy, proven by the board hash', async () => {
    const { flashImage } = await import('../flash/index.js');
    const img = new Uint8Array(readFileSync('test/fixtures/romfs/micropython-random.img'));
    const r = await flashImage(d, { image: img, strategy: 'qemu-loader' } as Parameters<typeof flashImage>[1]);
    expect(r.strategy).toBe('qemu-loader');
    expect(r.verifiedSha256).toBe(createHash('sha256').update(img).digest('hex'));
    expect(await d.evalJson("'romfs_sentinel.txt' in __import__('os').listdir('/rom')")).toBe(true);
  }, 120000);

  it('soft resets back into the raw REPL', async () => {
    await d.exec('import sys\nsys.path.append("/marker")');
    await d.softReset();
    expect(await d.evalJson("'/marker' in __import__('sys').path")).toBe(false);
  });
});
