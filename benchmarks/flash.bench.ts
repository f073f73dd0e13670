/**
 * Flash benchmarks (issue 4), run by `npm run bench` through benchmarks/index.ts.
 * On one board (real MicroPython under QEMU when HIL_QEMU_FIRMWARE is set, else the simulated board):
 *   - the link's raw byte rate: the binary channel into a sink that does nothing;
 *   - hil flash payload throughput (image bytes / whole flash incl. verification and /rom check)
 *     for an incompressible model and for the demo tree, next to the raw rate (goal >= 90 %)
 *     and next to mpremote's method re-implemented here (base64 chunks through exec, goal >= 1.3x);
 *   - re-flash of an identical image (skip-if-same) against a full flash (goal <= 2 %).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Device } from '../harness/device/types.js';
import { flashImage, type FlashResult } from '../harness/flash/flashImage.js';
import { checkImageBytes } from '../harness/flash/prepareImage.js';
import { silentProgress } from '../harness/flash/progress.js';
import { probeBoard } from '../harness/flash/probeBoard.js';
import { chunkSizeFor } from '../harness/flash/planTransfer.js';
import { hashBoardImage } from '../harness/flash/hashBoardImage.js';
import { umountRomCode } from '../harness/flash/strategies/types.js';
import { prepareImage } from '../harness/flash/prepareImage.js';
import { flatRomfs } from '../harness/flash/testImage.js';
import { loadProfile } from '../harness/profile/profile.js';
import { openTarget } from '../harness/bench/openTarget.js';
import { fileURLToPath } from 'node:url';
import type { BoardProfile } from '../harness/profile/profile.js';
import { join } from 'node:path';

import type { Figure } from './index.js';

/** Bytes per second through the binary channel into a no-op sink: the link's raw rate as hil sees it. */
export async function measureRawRate(device: Device, bytes: number, chunkSize: number): Promise<number> {
  const data = randomBytes(bytes);
  const t0 = performance.now();
  await device.sendBinary({ setup: 'def _hil_noop(mv, off):\n    pass\n', sink: '_hil_noop' }, data, { chunkSize, timeoutMs: 300_000 });
  return (bytes * 1000) / (performance.now() - t0);
}

/**
 * mpremote's deploy method, re-implemented: base64 chunks through exec, each decoded and written on
 * the board (into the RAM partition through uctypes, or with rom_ioctl(4) after an erase), then
 * (unlike mpremote) hashed once so both methods end with the same proof. Returns image bytes/s.
 */
export async function mpremoteMethodRate(device: Device, image: Uint8Array, strategy: string): Promise<number> {
  const facts = await probeBoard(device, 0);
  const t0 = performance.now();
  await device.exec(umountRomCode(0));
  let write: string;
  let mw = 1;
  if (strategy === 'rom-ioctl') {
    mw = Number((await device.exec(`import vfs\nprint(vfs.rom_ioctl(3, 0, ${image.length}))`, { timeoutMs: 60_000 })).trim());
    write = 'vfs.rom_ioctl(4, 0, {off}, buf)';
  } else {
    await device.exec(`import uctypes\n_ba = uctypes.bytearray_at(${facts.origin}, ${facts.partitionSize})`);
    write = '_ba[{off}:{off}+len(buf)] = buf';
  }
  await device.exec('import vfs\nfrom binascii import a2b_base64');
  const chunk = 2048; // mpremote's romfs deploy chunk (raw bytes per exec)
  for (let off = 0; off < image.length; off += chunk) {
    const piece = image.subarray(off, Math.min(off + chunk, image.length));
    let slice = piece;
    if (piece.length % mw) {
      slice = new Uint8Array(Math.ceil(piece.length / mw) * mw).fill(0xff);
      slice.set(piece);
    }
    const b64 = Buffer.from(slice).toString('base64');
    await device.exec(`buf = a2b_base64(b'${b64}')\n${write.replaceAll('{off}', String(off))}`, { timeoutMs: 30_000 });
  }
  if (strategy === 'rom-ioctl') await device.exec('vfs.rom_ioctl(5, 0)');
  const sha = await hashBoardImage(device, 0, image.length);
  if (sha !== createHash('sha256').update(image).digest('hex')) throw new Error('the mpremote-method re-implementation did not land the image');
  return (image.length * 1000) / (performance.now() - t0);
}

export interface FlashBenchBoard {
  device: Device;
  label: string;
  /** Restore a known, different image so the next flash is a full one. */
  reset?: () => Promise<void>;
}

async function fullFlash(device: Device, image: Uint8Array, name: string): Promise<FlashResult> {
  return flashImage(device, { image, imageName: name, force: true, onProgress: silentProgress, allowMisaligned: false });
}

export async function flashFigures(board: FlashBenchBoard, images: { model: Uint8Array; demo: Uint8Array }): Promise<Figure[]> {
  const { device, label } = board;
  const facts = await probeBoard(device, 0);
  const chunk = chunkSizeFor(facts.memFree);
  const rawRate = await measureRawRate(device, Math.max(64 * 1024, Math.min(images.model.length, 512 * 1024)), chunk);
  const figures: Figure[] = [{ name: `flash.${label}.link-raw-rate`, value: Math.round(rawRate), unit: 'B/s' }];
  const raw = { name: `flash.${label}.link-raw-rate`, value: Math.round(rawRate), unit: 'B/s' };
  for (const [what, image] of [['model', images.model], ['demo', images.demo]] as const) {
    checkImageBytes(image, what);
    const r = await fullFlash(device, image, what);
    const strategy = r.strategy;
    const rate = r.rate;
    figures.push({ name: `flash.${label}.${what}.throughput${r.compressed ? ' (deflate)' : ''}`, value: Math.round(rate), unit: 'B/s', reference: raw, ratio: rate / rawRate, goal: '>= 0.9 of link raw rate', met: rate / rawRate >= 0.9 });
    const mp = await mpremoteMethodRate(device, image, strategy);
    figures.push({
      name: `flash.${label}.${what}.vs-mpremote-method`, value: Math.round(rate), unit: 'B/s',
      reference: { name: 'mpremote method (base64 via exec)', value: Math.round(mp), unit: 'B/s' }, ratio: rate / mp, goal: '>= 1.3x', met: rate / mp >= 1.3,
    });
    if (what === 'model') {
      // The board now holds the model image (mpremote method wrote it): reflash = skip-if-same.
      const full = await fullFlash(device, image, what);
      const again = await flashImage(device, { image, imageName: what, onProgress: silentProgress });
      if (!again.skipped) throw new Error('re-flash of an identical image was not skipped');
      figures.push({
        name: `flash.${label}.reflash-identical`, value: Math.round(again.elapsedMs), unit: 'ms',
        reference: { name: 'full flash of the same image', value: Math.round(full.elapsedMs), unit: 'ms' },
        ratio: again.elapsedMs / full.elapsedMs, goal: '<= 0.02 of a full flash', met: again.elapsedMs / full.elapsedMs <= 0.02,
      });
    }
  }
  return figures;
}

/** Open a bench board through the device layer: QEMU started by hil, or a simulated board. */
async function openBoard(label: string, profile: BoardProfile): Promise<{ device: Device; close(): Promise<void>; via: string }> {
  const connection = label === 'qemu' ? 'qemu' : `sim:${profile.name}`;
  const device = await openTarget({ name: label, connection, profile, simulated: label !== 'qemu', extra: {} });
  return { device, close: () => device.close(), via: 'device layer' };
}

/** Entry point for benchmarks/index.ts: QEMU when HIL_QEMU_FIRMWARE is set, and the simulated board. */
export async function run(ctx: { root?: string; log?: (l: string) => void } = {}): Promise<Figure[]> {
  const root = ctx.root ?? fileURLToPath(new URL('..', import.meta.url));
  const boards: { label: string; profile: string; modelBytes: number }[] = [];
  if (process.env.HIL_QEMU_FIRMWARE) boards.push({ label: 'qemu', profile: 'qemu-mps2-an385', modelBytes: 256 * 1024 });
  boards.push({ label: 'sim', profile: 'openmv-h7', modelBytes: 64 * 1024 });
  const figures: Figure[] = [];
  for (const b of boards) {
    const profile = loadProfile(b.profile);
    const board = await openBoard(b.label, profile);
    ctx.log?.(`${b.label}: link through the ${board.via}`);
    try {
      const model = flatRomfs([{ name: 'model.tflite', data: randomBytes(b.modelBytes) }], profile.align.models);
      const demo = (await prepareImage({ sourceDir: join(root, 'images/demo') }, profile)).bytes;
      const figs = await flashFigures({ device: board.device, label: b.label }, { model, demo });
      for (const f of figs) f.note = [f.note, `link: ${board.via}`].filter(Boolean).join('; ');
      figures.push(...figs);
    } finally {
      await board.close();
    }
  }
  if (!process.env.HIL_QEMU_FIRMWARE) figures.push({ name: 'flash.qemu', value: NaN, unit: 'B/s', note: 'skipped: HIL_QEMU_FIRMWARE is not set' });
  return figures;
}
