/**
 * `hil flash` against real MicroPython (ports/qemu, MPS2_AN385) under qemu-system-arm, when
 * HIL_QEMU_FIRMWARE points at its firmware.elf. Its partition is RAM and its rom_ioctl answers
 * -22 to erase/write: the `ram` strategy must work, a profile allowing only rom-ioctl must end in
 * a clear error (mpremote's false-success case), and `qemu-loader` needs hil's QEMU restart hook.
 * Link drops come from hil's fault-injecting link (harness/fault) between hil and QEMU's tcp serial.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDevice, type Device } from '../device/index.js';
import { FaultProxy } from '../fault/faultProxy.js';
import { loadProfile, parseProfile } from '../profile/profile.js';
import { flashImage } from './flashImage.js';
import { BoardRefusedError, NoStrategyError } from './errors.js';
import { silentProgress } from './progress.js';
import { sha256Hex } from '../sha256.js';
import { flatRomfs } from './testImage.js';
import { qemuLoaderHook } from './strategies/qemuLoader.js';
import { listRom } from './verifyFlash.js';
import { romIoctlShimCode } from '../../test/doubles/romIoctlShim.js';

const firmware = process.env.HIL_QEMU_FIRMWARE;
const reason = !firmware ? 'HIL_QEMU_FIRMWARE is not set' : !existsSync(firmware) ? `${firmware} does not exist` : '';
if (reason) console.log(`flash.qemu.test: skipped: ${reason}`);
const d = reason ? describe.skip : describe;

const profile = loadProfile('qemu-mps2-an385');
const text = (s: string) => new TextEncoder().encode(s);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

let qemu: ChildProcess | undefined;
let qemuPort = 0;
let device: Device;
let tmp: string;

d('hil flash on MicroPython under QEMU (mps2-an385)', () => {
  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'hil-flash-qemu-'));
    const initial = join(tmp, 'initial.img');
    writeFileSync(initial, flatRomfs([{ name: 'old.py', data: text('print("old")\n') }]));
    const port = await freePort();
    qemuPort = port;
    qemu = spawn('qemu-system-arm', [
      '-machine', 'mps2-an385', '-nographic', '-monitor', 'null', '-semihosting',
      '-serial', `tcp:127.0.0.1:${port},server=on,wait=off`, '-kernel', firmware!,
      '-device', `loader,file=${initial},addr=0x${profile.partition.origin.toString(16)},force-raw=on`,
    ], { stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        device = await openDevice({ connection: `socket://127.0.0.1:${port}`, profile });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  });

  afterAll(async () => {
    await device?.close();
    qemu?.kill();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the profile allowing only rom-ioctl ends in a clear error (writability probe rom_ioctl(3, 0, 0) = -22), nothing written', async () => {
    const only = parseProfile({ ...structuredClone({ ...profile, source: undefined }), flash: { strategies: ['rom-ioctl'] } }, 'test:rom-ioctl-only');
    const image = flatRomfs([{ name: 'new.py', data: text('print("new")\n') }]);
    // The same board seen through a profile that allows only rom-ioctl (methods bound to the real device).
    const dev = new Proxy(device, {
      get: (t, k) => (k === 'profile' ? only : typeof (t as never)[k] === 'function' ? ((t as never)[k] as (...a: unknown[]) => unknown).bind(t) : (t as never)[k]),
    });
    const err = await flashImage(dev, { image, onProgress: silentProgress }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoStrategyError);
    expect((err as NoStrategyError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/rom-ioctl: rom_ioctl\(3, 0, 0\) = -22: the board cannot write this segment through rom_ioctl/);
    const listing = await listRom(device);
    expect(listing instanceof Map && [...listing.keys()]).toEqual(['old.py']);
  });

  it('ram: writes the RAM partition through uctypes, proves it by hash and /rom after soft reset', async () => {
    const image = flatRomfs([
      { name: 'model.tflite', data: randomBytes(24 * 1024) },
      { name: 'main.py', data: text('print("hello from rom")\n'.repeat(40)) },
    ], 16);
    const r = await flashImage(device, { image, onProgress: silentProgress });
    expect(r).toMatchObject({ strategy: 'ram', skipped: false, verifiedSha256: sha256Hex(image), mountChecked: true });
    const listing = await listRom(device);
    expect(listing instanceof Map && Object.fromEntries(listing)).toEqual({ 'model.tflite': 24 * 1024, 'main.py': 24 * 40 });
    expect((await device.exec('import main', { timeoutMs: 10_000 })).split(/\r?\n/)[0]?.trim()).toBe('hello from rom');
    const again = await flashImage(device, { image, onProgress: silentProgress });
    expect(again.skipped).toBe(true);
  });

  it('rom-ioctl (stm32 semantics, released and master API, emulated over the RAM partition by a labelled board-side double): erase, padded writes, proof', async () => {
    const erase = { released: /rom_ioctl\(6, 0\) = -22 \(released API: whole-range erase only\)/, master: /rom_ioctl\(6, 0\) = 4096 \(ranged erase available\)/ };
    for (const api of ['released', 'master'] as const) {
      await device.exec(romIoctlShimCode({ eraseBlock: 4096, minWrite: 16, api }));
      try {
        const image = flatRomfs([
          { name: 'model.tflite', data: randomBytes(20 * 1024 + 5) },
          { name: `boot_${api}.py`, data: text('x = 1\n') },
        ], 16);
        const r = await flashImage(device, { image, onProgress: silentProgress, force: true, chunkSize: 4096 });
        expect(r).toMatchObject({ strategy: 'rom-ioctl', skipped: false, verifiedSha256: sha256Hex(image), mountChecked: true });
        expect(r.strategyChoice?.why).toMatch(erase[api]);
      } finally {
        await device.softReset(); // removes the shim: the next one wraps the real vfs, not this one
      }
    }
  });

  it('a board refusing erase or write ends in BoardRefusedError (exit 5), never success', async () => {
    // fail='erase' makes every rom_ioctl(3) answer -5, the writability probe rom_ioctl(3, 0, 0)
    // included: that is the board refusing (not a port without the command), so hil stops there.
    const refused = { erase: /board refused the writability probe: rom_ioctl\(3, 0, 0\) = -5; nothing was written/, write: /board refused write.*-5/ };
    for (const fail of ['erase', 'write'] as const) {
      await device.exec(romIoctlShimCode({ fail }));
      try {
        const image = flatRomfs([{ name: `refused-${fail}.py`, data: text('print(1)\n') }]);
        const err = await flashImage(device, { image, onProgress: silentProgress }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(BoardRefusedError);
        expect((err as BoardRefusedError).exitCode).toBe(5);
        expect((err as Error).message).toMatch(refused[fail]);
      } finally {
        await device.softReset(); // removes the shim, also when an expectation failed (later tests must not see it)
      }
      const listing = await listRom(device);
      expect(listing instanceof Map && listing.has(`refused-${fail}.py`)).toBe(false);
    }
  });

  it('qemu-loader: restarts QEMU with the image in -device loader, or refuses clearly without the hook', async () => {
    const image = flatRomfs([{ name: 'loaded.py', data: text('print("loaded")\n') }]);
    if (!qemuLoaderHook(device)) {
      console.log('qemu-loader: this QEMU device has no restartWithRomfsImage hook; checking that the strategy is refused');
      const err = await flashImage(device, { image, strategy: 'qemu-loader', onProgress: silentProgress, force: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NoStrategyError);
      expect((err as Error).message).toMatch(/qemu-loader cannot be used: .*restart hook/);
      return;
    }
    const r = await flashImage(device, { image, strategy: 'qemu-loader', onProgress: silentProgress, force: true });
    expect(r).toMatchObject({ strategy: 'qemu-loader', verifiedSha256: sha256Hex(image), mountChecked: true });
  });

  it('resumes after a link drop mid-transfer from the last block verified on the board', async () => {
    await device.close(); // QEMU's tcp serial takes one client: hil now reaches it through the proxy
    // A fault proxy in front of QEMU and a device opened through it; `drop(bytes)` cuts the link once
    // that many more bytes have gone toward the board (one connection so far: its count is the total).
    const through = async () => {
      const proxy = await FaultProxy.start({ upstream: `socket://127.0.0.1:${qemuPort}` });
      const linked = await openDevice({ connection: proxy.connection, profile }).catch(async (e: unknown) => {
        await proxy.close();
        throw e;
      });
      const drop = (bytes: number) => proxy.addRule({ when: { kind: 'bytes', dir: 'toBoard', at: proxy.stats.toBoard + bytes }, do: { kind: 'drop' } });
      const drops = () => proxy.events.filter((e) => e.action === 'drop').length;
      const close = async () => {
        await linked.close();
        await proxy.close();
      };
      return { proxy, linked, drop, drops, close };
    };

    const a = await through();
    try {
      const image = flatRomfs([{ name: 'model.tflite', data: randomBytes(64 * 1024) }], 16);
      a.drop(40 * 1024);
      const r = await flashImage(a.linked, { image, onProgress: silentProgress, force: true, compress: false, chunkSize: 4096 });
      expect(a.drops()).toBe(1);
      expect(r.resumedFrom.length).toBe(1);
      // Not from zero: blocks already on the board were kept. (Up to two 16 KiB groups of frames are
      // in flight when the link drops, and QEMU loses what it had not read yet: the board holds at
      // least the first group, 4 blocks, since nothing past two groups is sent before its ack.)
      expect(r.resumedFrom[0]).toBeGreaterThanOrEqual(4);
      expect(r.bytesSent).toBeLessThan(image.length + 3 * 4096);
      expect(r).toMatchObject({ strategy: 'ram', verifiedSha256: sha256Hex(image), mountChecked: true });
    } finally {
      await a.close();
    }

    // The same over rom-ioctl (the released stm32 API from the board-side double: whole-range
    // erase only): blocks after the resume point are still erased, so writing continues there
    // without a new erase (which on this API would have to start again from 0).
    const b = await through();
    try {
      await b.linked.exec(romIoctlShimCode({ eraseBlock: 4096, minWrite: 16 }));
      const image2 = flatRomfs([{ name: 'model2.tflite', data: randomBytes(64 * 1024) }], 16);
      // Counted from here: the probe, hash, erase and writer programs go first (about 8 KB), so the
      // cut comes past the first 32 KiB of frames, which the host sends only after the board
      // acknowledged the first 16 KiB group: blocks are kept, whatever QEMU had not read yet.
      b.drop(48 * 1024);
      const r2 = await flashImage(b.linked, { image: image2, onProgress: silentProgress, compress: false, chunkSize: 4096 });
      expect(b.drops()).toBe(1);
      expect(r2.resumedFrom.length).toBe(1);
      expect(r2.resumedFrom[0]).toBeGreaterThan(0); // not from zero: blocks already on the board were kept
      expect(r2.notes.join('\n')).toMatch(new RegExp(`blocks from ${r2.resumedFrom[0]} are still erased: writing on from offset ${r2.resumedFrom[0]! * 4096} without erasing`));
      expect(r2.bytesSent).toBeLessThan(image2.length + 3 * 4096);
      expect(r2).toMatchObject({ strategy: 'rom-ioctl', verifiedSha256: sha256Hex(image2), mountChecked: true });
    } finally {
      await b.close();
    }
  }, 240_000); // two flashes of 48-64 KiB over an emulated UART on a shared machine: a deadline, not a speed claim
});
