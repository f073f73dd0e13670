/**
 * `hil flash` end to end against the simulated board (real MicroPython in wasm behind a pty or TCP,
 * rom-ioctl partition following the stm32 port), through the real device layer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Device } from '../device/types.js';
import { loadProfile, type BoardProfile } from '../profile/profile.js';
import { flashImage } from './flashImage.js';
import { BoardRefusedError, FlashInputError } from './errors.js';
import { hashBoardImage } from './hashBoardImage.js';
import { listRom } from './verifyFlash.js';
import { silentProgress } from './progress.js';
import { sha256Hex } from './prepareImage.js';
import { flatRomfs } from './testImage.js';
import { FaultProxy } from '../../test/doubles/faultProxy.js';
import { TcpRawReplDouble } from '../../test/doubles/tcpRawRepl.js';

const here = new URL('.', import.meta.url);
const haveSim = existsSync(new URL('../sim/index.ts', here));
const haveDevice = existsSync(new URL('../device/index.ts', here));
const haveLayers = haveSim;
if (!haveSim) console.log('flash.sim.test: skipped: harness/sim not present yet');
else if (!haveDevice) console.log('flash.sim.test: harness/device is absent: using the TcpRawReplDouble test double as the link (sim over TCP)');
const portOf = (conn: string) => Number(/:(\d+)$/.exec(conn)![1]);
/** Open the board through the device layer, or through the labelled test double when it is absent. */
async function open(connection: string): Promise<Device> {
  if (haveDevice) return dev.openDevice({ connection, profile });
  return TcpRawReplDouble.open(portOf(connection), profile, 'sim-double');
}
const d = haveLayers ? describe : describe.skip;

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

type SimHandle = { connection: string; stop(): Promise<void> | void; setFailWrites?(on: boolean): void };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let sim: any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let dev: any;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  if (!haveLayers) return;
  const simSpec = '../sim/index.js';
  const devSpec = '../device/index.js';
  sim = await import(simSpec);
  if (haveDevice) dev = await import(devSpec);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function board(opts: Record<string, unknown> = {}): Promise<{ device: Device; handle: SimHandle }> {
  const handle: SimHandle = await sim.startSim({ profile, link: haveDevice ? 'pty' : 'tcp', ...opts });
  cleanups.push(() => handle.stop());
  const device: Device = await open(handle.connection);
  cleanups.push(() => device.close());
  return { device, handle };
}

d('hil flash on the simulated board (rom-ioctl)', () => {
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
    expect((err as Error).message).toMatch(/refused (erase|write)/);
    expect(await hashBoardImage(device, 0, image.length).catch(() => 'unreadable')).not.toBe(sha256Hex(image));
  });

  it('refuses bad input before writing: too large, misaligned model, .mpy the board cannot load (exit 2)', async () => {
    const { device } = await board();
    const before = await hashBoardImage(device, 0, 4096);
    const tooBig = flatRomfs([{ name: 'big.bin', data: randomBytes(profile.partition.size + 1) }]);
    const cases: [Uint8Array, RegExp][] = [
      [tooBig, /larger than partition 0/],
      [fixture('demo.mpremote.img'), /model 'model\.tflite' data at offset 482 .*16-byte aligned/],
      [flatRomfs([{ name: 'native.mpy', data: Uint8Array.of(0x4d, 6, (8 << 2) | 3, 31, 0, 0) }]), /'native\.mpy' cannot load/],
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
    let handle: SimHandle;
    try {
      handle = await sim.startSim({ profile, link: 'tcp' });
    } catch (e) {
      console.log(`resume test skipped: the simulated board has no TCP link (${(e as Error).message})`);
      return;
    }
    cleanups.push(() => handle.stop());
    const proxy = await FaultProxy.start({ target: handle.connection });
    cleanups.push(() => proxy.close());
    const device: Device = await open(proxy.url);
    cleanups.push(() => device.close());
    const image = demoImage('three', 96 * 1024);
    proxy.dropAfter(60 * 1024);
    const r = await flashImage(device, { image, onProgress: silentProgress, compress: false, chunkSize: 4096 });
    expect(proxy.stats.drops).toBe(1);
    expect(r.resumedFrom.length).toBeGreaterThanOrEqual(1);
    expect(r.resumedFrom[0]).toBeGreaterThan(0);
    expect(r.bytesSent).toBeLessThan(image.length * 1.5);
    expect(r.verifiedSha256).toBe(sha256Hex(image));
  });
});
