/**
 * `hil flash` end to end against the simulated board (real MicroPython in wasm behind a pty or TCP,
 * rom-ioctl partition following the stm32 port), through the real device layer. Link faults come
 * from hil's fault-injecting link (harness/fault). The sim runs from dist/: `npm run build` first.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { openDevice, type Device } from '../device/index.js';
import { startSim, type SimBoard } from '../sim/index.js';
import { FaultProxy } from '../fault/faultProxy.js';
import { loadProfile, type BoardProfile } from '../profile/profile.js';
import { flashImage } from './flashImage.js';
import { BoardRefusedError, FlashInputError } from './errors.js';
import { hashBoardImage } from './hashBoardImage.js';
import { listRom } from './verifyFlash.js';
import { silentProgress } from './progress.js';
import { sha256Hex } from '../sha256.js';
import { flatRomfs } from './testImage.js';

const here = new URL('.', import.meta.url);
const open = (connection: string): Promise<Device> => openDevice({ connection, profile });

const fixture = (n: string) => new Uint8Array(readFileSync(new URL(`../../test/fixtures/romfs/${n}`, here)));
const profile: BoardProfile = loadProfile('openmv-h7');
const text = (s: string) => new TextEncoder().encode(s);

/** A small aligned image: a model (incompressible), a script, a config. */
function demoImage(seed: string, modelBytes = 40 * 1024): Uint8Array {
  return flatRomfs(
    [
      { name: 'model.tflite', data: randomBytes(modelBytes) },
      { name: 'main.py', data: text(`print("${seed}")\n`.repeat(50)) },
      { name: 'config.json', data: text(JSON.stringify({ seed })) },
    ],
    16,
  );
}

const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function board(opts: { failWrites?: boolean } = {}): Promise<{ device: Device; handle: SimBoard }> {
  const handle = await startSim({ profile, link: 'pty', ...opts });
  cleanups.push(() => handle.stop());
  const device: Device = await open(handle.connection);
  cleanups.push(() => device.close());
  return { device, handle };
}

describe('hil flash on the simulated board (rom-ioctl)', () => {
  it('flashes, proves by board hash and /rom listing, then skips an identical image unless forced', async () => {
    const { device } = await board();
    const image = demoImage('one');
    const r = await flashImage(device, { image, imageName: 'one.img', onProgress: silentProgress });
    expect(r).toMatchObject({ strategy: 'rom-ioctl', skipped: false, verifiedSha256: sha256Hex(image), mountChecked: true, imageBytes: image.length });
    expect(r.bytesSent).toBeGreaterThan(0);
    const listing = await listRom(device);
    expect(listing instanceof Map && [...listing.keys()].sort()).toEqual(['config.json', 'main.py', 'model.tflite']);

    const again = await flashImage(device, { image, imageName: 'one.img', onProgress: silentProgress });
    expect(again).toMatchObject({ skipped: true, bytesSent: 0, verifiedSha256: sha256Hex(image) });
    const forced = await flashImage(device, { image, imageName: 'one.img', onProgress: silentProgress, force: true });
    expect(forced.skipped).toBe(false);
    expect(forced.bytesSent).toBeGreaterThan(0);
  });

  it('a board that refuses writes ends in BoardRefusedError (exit 5), never success, not retried', async () => {
    const { device } = await board({ failWrites: true });
    const image = demoImage('two');
    const err = await flashImage(device, { image, onProgress: silentProgress }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BoardRefusedError);
    expect((err as BoardRefusedError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/refused (the writability probe|erase|write)/);
    expect(await hashBoardImage(device, 0, image.length).catch(() => 'unreadable')).not.toBe(sha256Hex(image));
  });

  it('refuses bad input before writing: too large, misaligned model, .mpy the board cannot load (exit 2)', async () => {
    const { device } = await board();
    const before = await hashBoardImage(device, 0, 4096);
    const tooBig = flatRomfs([{ name: 'big.bin', data: randomBytes(profile.partition.size + 1) }]);
    const cases: [Uint8Array, RegExp][] = [
      [tooBig, /larger than partition 0/],
      [fixture('demo.mpremote.img'), /model 'model\.tflite' data at offset 482 .*16-byte aligned/],
      // xtensa native code: the simulated H7 reports armv7emdp in _mpy, as the real one does.
      [flatRomfs([{ name: 'native.mpy', data: Uint8Array.of(0x4d, 6, (9 << 2) | 3, 31, 0, 0) }]), /'native\.mpy' cannot load/],
    ];
    for (const [image, msg] of cases) {
      const err = await flashImage(device, { image, imageName: 'bad.img', onProgress: silentProgress }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FlashInputError);
      expect((err as FlashInputError).exitCode).toBe(2);
      expect((err as Error).message).toMatch(msg);
    }
    expect(await hashBoardImage(device, 0, 4096)).toBe(before);
  });

  it('resumes after a link drop mid-write from the last block verified on the board', async () => {
    const handle = await startSim({ profile, link: 'tcp' });
    cleanups.push(() => handle.stop());
    const proxy = await FaultProxy.start({ upstream: handle.connection });
    cleanups.push(() => proxy.close());
    const device = await open(proxy.connection);
    cleanups.push(() => device.close());
    const image = demoImage('three', 96 * 1024);
    // Cut the link once 60 KiB more have gone toward the board (one connection so far, so its
    // byte count is the proxy's total); the cut falls mid-chunk, during the transfer.
    proxy.addRule({ when: { kind: 'bytes', dir: 'toBoard', at: proxy.stats.toBoard + 60 * 1024 }, do: { kind: 'drop' } });
    const r = await flashImage(device, { image, onProgress: silentProgress, compress: false, chunkSize: 4096 });
    expect(proxy.events.filter((e) => e.action === 'drop')).toHaveLength(1);
    expect(proxy.stats.connections).toBe(2);
    expect(r.resumedFrom.length).toBeGreaterThanOrEqual(1);
    expect(r.resumedFrom[0]).toBeGreaterThan(0);
    expect(r.bytesSent).toBeLessThan(image.length * 1.5);
    expect(r.verifiedSha256).toBe(sha256Hex(image));
  });
});
