/**
 * Flash benchmarks, run by `npm run bench` (`npm run bench -- flash` alone) through
 * benchmarks/index.ts. Per firmware personality of the simulated board (and real MicroPython
 * under QEMU when HIL_QEMU_FIRMWARE is set), in the same run:
 *   - the link's raw byte rate, two ways, each measured before and after the flash (the mean,
 *     so a load that changes during the run moves the reference with it): the binary channel
 *     into a sink that does nothing (frames, checks, acknowledgements: hil's own channel), and,
 *     on a REPL board, the board only draining stdin (harness/board/flash/sink_link.py: no
 *     frames, no checks, one write of everything by the host), the link itself;
 *   - hil flash payload throughput (image bytes / the whole flash, probe to proof) for an
 *     incompressible image, next to the faster of the two raw rates (goal >= 0.9, judged on QEMU:
 *     the simulated board's figure is kept without a goal, as issue 15 says);
 *   - round trips per MiB written (programs sent to the board: sealed queries, transfers, resets);
 *   - mpremote's `romfs deploy` method (harness/bench/mpremoteMethod.ts) on the same board;
 *   - re-flash of an identical image (skip-if-same) against a full flash (goal <= 2 %).
 */
import { randomBytes } from 'node:crypto';
import type { Device } from '../harness/device/types.js';
import { flashImage, type FlashResult } from '../harness/flash/flashImage.js';
import { silentProgress } from '../harness/flash/progress.js';
import { probeBoard } from '../harness/flash/probeBoard.js';
import { chunkSizeFor } from '../harness/flash/planTransfer.js';
import { flatRomfs } from '../harness/flash/testImage.js';
import { boardProgram } from '../harness/board/program.js';
import { loadProfile, type BoardProfile } from '../harness/profile/profile.js';
import { openTarget } from '../harness/bench/openTarget.js';
import { mpremoteDeploy } from '../harness/bench/mpremoteMethod.js';
import type { ReplDevice } from '../harness/device/replDevice.js';
import type { Figure } from './index.js';

/** Bytes per second through the binary channel into a no-op sink: the link's raw rate as hil sees it. */
export async function measureRawRate(device: Device, bytes: number, chunkSize: number): Promise<number> {
  const data = randomBytes(bytes);
  const t0 = performance.now();
  await device.sendBinary({ setup: boardProgram('flash/sink_noop'), sink: '_hil_noop' }, data, { chunkSize, timeoutMs: 300_000 });
  return (bytes * 1000) / (performance.now() - t0);
}

/**
 * Bytes per second the board takes from the link with nothing else to do: sink_link.py reads
 * stdin into one buffer, the host writes all the bytes at once. Only for a REPL device (it talks
 * to the running program through the device's transport); undefined for others.
 */
export async function measureLinkRate(device: Device, bytes: number): Promise<number | undefined> {
  const d = device as Partial<ReplDevice>;
  if (!d.repl || !d.transport) return undefined;
  const data = randomBytes(bytes);
  const rx = d.transport.rx;
  const deadline = Date.now() + 300_000;
  const t0 = performance.now();
  await d.repl.submit(boardProgram('flash/sink_link', { total: bytes, chunk: 4096 }), 15_000);
  await rx.readUntil('\x06', deadline, 'transfer');
  await d.transport.write(data);
  const out = (await rx.readUntil('\x04', deadline, 'transfer-end')).toString('latin1');
  const err = (await rx.readUntil('\x04', deadline, 'transfer-end')).toString('utf8');
  await rx.readUntil('>', deadline, 'transfer-end');
  const ms = performance.now() - t0;
  if (err.trim() || !out.includes(`HILRAW ${bytes}`)) throw new Error(`link rate: the board did not take ${bytes} bytes (${(err || out).trim().split('\n').pop()})`);
  return (bytes * 1000) / ms;
}

/** A device whose programs sent to the board are counted (execs, transfers, resets). */
function counting(device: Device): { device: Device; count: () => number } {
  let n = 0;
  const d = Object.create(device) as Device;
  const wrap = <K extends 'execRaw' | 'exec' | 'sendBinary' | 'softReset' | 'evalJson'>(k: K) => {
    const f = (device[k] as (...a: unknown[]) => Promise<unknown>).bind(device);
    (d as unknown as Record<string, unknown>)[k] = (...a: unknown[]) => { n++; return f(...a); };
  };
  // exec goes through execRaw on ReplDevice; count the entry points callers use.
  wrap('execRaw');
  wrap('sendBinary');
  wrap('softReset');
  return { device: d, count: () => n };
}

interface BenchBoard { label: string; profile: string; segment: number; imageBytes: number; mpremote: boolean }

const BOARDS: BenchBoard[] = [
  { label: 'h7', profile: 'openmv-h7', segment: 0, imageBytes: 96 * 1024, mpremote: true },
  { label: 'h7-plus', profile: 'openmv-h7-plus', segment: 0, imageBytes: 512 * 1024, mpremote: true },
  { label: 'n6', profile: 'openmv-n6', segment: 0, imageBytes: 512 * 1024, mpremote: true },
  { label: 'rt1062', profile: 'openmv-rt1062', segment: 0, imageBytes: 512 * 1024, mpremote: true },
  { label: 'ae3-mram', profile: 'openmv-ae3', segment: 1, imageBytes: 256 * 1024, mpremote: false },
  { label: 'an500-ram', profile: 'qemu-mps2-an500', segment: 0, imageBytes: 512 * 1024, mpremote: false },
];

async function fullFlash(device: Device, image: Uint8Array, segment: number): Promise<FlashResult> {
  return flashImage(device, { image, imageName: 'bench', force: true, partition: segment, skipMountCheck: segment !== 0, onProgress: silentProgress });
}

export async function flashFigures(device: Device, b: BenchBoard, profile: BoardProfile): Promise<Figure[]> {
  const facts = await probeBoard(device, b.segment);
  const chunk = chunkSizeFor(facts.memFree);
  const rawBytes = Math.max(64 * 1024, Math.min(256 * 1024, b.imageBytes));
  const channelBefore = await measureRawRate(device, rawBytes, chunk);
  const linkBefore = await measureLinkRate(device, rawBytes);
  const image = flatRomfs([{ name: 'model.tflite', data: randomBytes(b.imageBytes) }], profile.align.models);
  const c = counting(device);
  const r = await fullFlash(c.device, image, b.segment);
  const channelAfter = await measureRawRate(device, rawBytes, chunk);
  const linkAfter = linkBefore === undefined ? undefined : await measureLinkRate(device, rawBytes);
  const channelRate = (channelBefore + channelAfter) / 2;
  const linkRate = linkBefore === undefined || linkAfter === undefined ? undefined : (linkBefore + linkAfter) / 2;
  const spread = (x: number, y: number) => `before ${Math.round(x)}, after ${Math.round(y)} B/s`;
  const raw = { name: `flash.${b.label}.link-raw-rate`, value: Math.round(channelRate), unit: 'B/s' };
  const figures: Figure[] = [{ ...raw, note: `binary channel into a no-op sink, chunks as a flash sends them; ${spread(channelBefore, channelAfter)}` }];
  const drain = linkRate === undefined ? undefined : { name: `flash.${b.label}.link-drain-rate`, value: Math.round(linkRate), unit: 'B/s' };
  if (drain) figures.push({ ...drain, note: `the board only draining stdin; ${spread(linkBefore!, linkAfter!)}` });
  // The fairer reference is the faster of the two: what the link carries, not what hil's channel makes of it.
  const ref = drain && drain.value > raw.value ? drain : raw;
  const mib = image.length / (1024 * 1024);
  figures.push({
    name: `flash.${b.label}.throughput (${r.strategy}, ${Math.round(image.length / 1024)} KiB)`, value: Math.round(r.rate), unit: 'B/s',
    reference: ref, ratio: r.rate / ref.value,
    // Judged on real firmware only (QEMU): the simulated board's write path is not a cam's, and
    // issue 15 keeps its figure in the table without a goal.
    ...(b.label.startsWith('qemu-') ? { goal: '>= 0.9 of link raw rate', met: r.rate / ref.value >= 0.9 } : { note: 'no goal on a simulated board (judged on QEMU)' }),
  });
  figures.push({ name: `flash.${b.label}.round-trips-per-MiB`, value: c.count() / mib, unit: 'round trips/MiB', note: `${c.count()} programs for ${Math.round(image.length / 1024)} KiB` });
  if (b.mpremote) {
    const m = await mpremoteDeploy(device, image, b.segment);
    const mRate = (image.length * 1000) / m.elapsedMs;
    figures.push({
      name: `flash.${b.label}.vs-mpremote-method`, value: Math.round(r.rate), unit: 'B/s',
      reference: { name: `mpremote romfs deploy method (${m.landed ? 'landed' : 'did not land'}, ${Math.round(m.roundTrips / mib)} round trips/MiB)`, value: Math.round(mRate), unit: 'B/s' },
      ratio: r.rate / mRate, goal: '>= 1.3x', met: r.rate / mRate >= 1.3,
    });
  }
  // The board holds `image` (mpremote's method or hil wrote it last): hil flash again = skip-if-same.
  const full = await fullFlash(device, image, b.segment);
  const again = await flashImage(device, { image, partition: b.segment, skipMountCheck: true, onProgress: silentProgress });
  if (!again.skipped) throw new Error(`${b.label}: re-flash of an identical image was not skipped`);
  figures.push({
    name: `flash.${b.label}.reflash-identical`, value: Math.round(again.elapsedMs), unit: 'ms',
    reference: { name: 'full flash of the same image', value: Math.round(full.elapsedMs), unit: 'ms' },
    ratio: again.elapsedMs / full.elapsedMs, goal: '<= 0.02 of a full flash', met: again.elapsedMs / full.elapsedMs <= 0.02,
  });
  return figures;
}

/** Entry point for benchmarks/index.ts: every sim personality, and QEMU when HIL_QEMU_FIRMWARE is set. */
export async function run(ctx: { log?: (l: string) => void } = {}): Promise<Figure[]> {
  const boards = [...BOARDS];
  if (process.env.HIL_QEMU_FIRMWARE) boards.unshift({ label: 'qemu-an385', profile: 'qemu-mps2-an385', segment: 0, imageBytes: 256 * 1024, mpremote: false });
  const figures: Figure[] = [];
  for (const b of boards) {
    const profile = loadProfile(b.profile);
    const qemu = b.label.startsWith('qemu-');
    const device = await openTarget({ name: b.label, connection: qemu ? 'qemu' : `sim:${profile.name}`, profile, simulated: !qemu, extra: {} });
    ctx.log?.(`${b.label}: ${qemu ? 'QEMU' : `simulated ${profile.name} (${profile.firmware.port}, ${profile.firmware.api} API)`}`);
    try {
      const figs = await flashFigures(device, b, profile);
      for (const f of figs) f.note = [f.note, qemu ? 'QEMU' : 'simulated board'].filter(Boolean).join('; ');
      figures.push(...figs);
    } finally {
      await device.close();
    }
  }
  if (!process.env.HIL_QEMU_FIRMWARE) figures.push({ name: 'flash.qemu', value: NaN, unit: 'B/s', note: 'skipped: HIL_QEMU_FIRMWARE is not set' });
  return figures;
}
