/**
 * `hil flash` against every firmware personality of the simulated board (real MicroPython in wasm
 * with the port's rom_ioctl and flash physics, harness/board/sim/*.py), through the real device
 * layer and hil's fault-injecting link. Each board is judged by its segment file (what the "flash"
 * holds), never by what hil says. Per personality: full flash with the strategy `auto` picks,
 * skip-if-same, resume after a link drop mid-transfer (written on without erasing) and during
 * the tail write (the partly written last block: restart from 0 on the released API, the ranged
 * erase on master, erase of one device block on the RT1062, overwrite on MRAM), and a board that
 * refuses writes. The sim runs from dist/: `npm run build` first.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { openDevice, type Device } from '../device/index.js';
import { startSim, type SimBoard } from '../sim/index.js';
import { FaultProxy } from '../fault/faultProxy.js';
import { loadProfile, type FirmwareApi } from '../profile/profile.js';
import { flashImage, type FlashResult } from './flashImage.js';
import { BoardRefusedError } from './errors.js';
import { silentProgress } from './progress.js';
import { romfsOfLength } from './testImage.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface Case {
  profile: string;
  api: FirmwareApi;
  segment: number;
  strategy: string;
  /** Image lengths flashed one after the other (residues of the write unit). */
  lengths: number[];
  /** What resume does when the tail write is lost (the last block is partly written). */
  tailResume: RegExp;
}

// Lengths: the smallest one-file image (13 bytes; a 1-byte file is no ROMFS image and is refused
// as bad input, see flash.sim.test.ts), 4095 / 4096 / 4097, and every residue of the medium's
// write unit (what the writer pads: every residue mod 32 on the H7, whose words are 32 bytes;
// mod 16 on MRAM; mod 4 on QSPI/OSPI/XSPI; the blockdev's 4).
const lengths = (unit: number) => [13, 4095, 4096, 4097, ...Array.from({ length: unit }, (_, r) => 8192 + r)];
const h7Lengths = lengths(32);
const few = lengths(4);

const cases: Case[] = [
  { profile: 'openmv-h7', api: 'released', segment: 0, strategy: 'rom-ioctl', lengths: h7Lengths, tailResume: /only the whole-range erase: erased again from 0 and restarting from offset 0/ },
  { profile: 'openmv-h7', api: 'master', segment: 0, strategy: 'rom-ioctl', lengths: few, tailResume: /with the ranged erase/ },
  { profile: 'openmv-h7-plus', api: 'released', segment: 0, strategy: 'rom-ioctl', lengths: few, tailResume: /restarting from offset 0/ },
  { profile: 'openmv-h7-plus', api: 'master', segment: 0, strategy: 'rom-ioctl', lengths: few, tailResume: /with the ranged erase/ },
  { profile: 'openmv-n6', api: 'released', segment: 0, strategy: 'rom-ioctl', lengths: few, tailResume: /restarting from offset 0/ },
  { profile: 'openmv-rt1062', api: 'released', segment: 0, strategy: 'blockdev', lengths: few, tailResume: /erased device blocks from \d+ \(dev\.ioctl\(6\)\)/ },
  { profile: 'openmv-ae3', api: 'released', segment: 0, strategy: 'rom-ioctl', lengths: few, tailResume: /restarting from offset 0/ },
  { profile: 'openmv-ae3', api: 'released', segment: 1, strategy: 'rom-ioctl', lengths: lengths(16), tailResume: /MRAM segment \(written over without erase\)/ },
  { profile: 'qemu-mps2-an500', api: 'released', segment: 0, strategy: 'ram', lengths: few, tailResume: /all 6 blocks verified on the board after the link fault/ },
];

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function boardFor(c: Case): Promise<{ device: Device; sim: SimBoard; proxy: FaultProxy }> {
  const sim = await startSim({ profile: c.profile, firmwareApi: c.api, link: 'tcp' });
  cleanups.push(() => sim.stop());
  const proxy = await FaultProxy.start({ upstream: sim.connection });
  cleanups.push(() => proxy.close());
  const device = await openDevice({ connection: proxy.connection, profile: c.profile });
  cleanups.push(() => device.close());
  return { device, sim, proxy };
}

describe.each(cases)('$profile ($api API), segment $segment: $strategy', (c) => {
  let b: { device: Device; sim: SimBoard; proxy: FaultProxy };
  const opts = { onProgress: silentProgress, partition: c.segment, skipMountCheck: c.segment !== 0, compress: false } as const;
  // A RAM segment reaches its file when the board resets (the sim keeps RAM across resets that way).
  const holds = async (img: Uint8Array) => {
    if (c.strategy === 'ram') await b.device.softReset();
    return sha(b.sim.readSegment(c.segment).subarray(0, img.length)) === sha(img);
  };

  it('auto picks the strategy the firmware allows, says why, and the segment file holds each image', async () => {
    b = await boardFor(c);
    let first: FlashResult | undefined;
    for (const [i, n] of c.lengths.entries()) {
      const img = romfsOfLength(n, i + 1);
      const r = await flashImage(b.device, { ...opts, image: img, imageName: `len${n}`, skipMountCheck: c.segment !== 0 || i % 8 !== 0 });
      first ??= r;
      expect(r).toMatchObject({ strategy: c.strategy, skipped: false, verifiedSha256: sha(img) });
      if (!(await holds(img))) throw new Error(`${c.profile}: segment file does not hold the ${n}-byte image`);
    }
    expect(first!.strategyChoice).toMatchObject({ name: c.strategy, how: 'auto' });
    expect(first!.strategyChoice!.why.length).toBeGreaterThan(10);
    if (c.segment === 0) expect(first!.mountChecked).toBe(true);
  });

  it('skips an image the board already holds (nothing written)', async () => {
    const img = romfsOfLength(c.lengths[c.lengths.length - 1]!, c.lengths.length);
    const r = await flashImage(b.device, { ...opts, image: img });
    expect(r).toMatchObject({ skipped: true, bytesSent: 0, verifiedSha256: sha(img) });
  });

  it('resumes after a link drop mid-transfer without erasing what was written', async () => {
    const img = romfsOfLength(48 * 1024 + 17, 101);
    const before = b.proxy.stats.connections;
    b.proxy.addRule({ when: { kind: 'bytes', dir: 'toBoard', at: b.proxy.stats.toBoard + 30 * 1024 }, do: { kind: 'drop' } });
    const r = await flashImage(b.device, { ...opts, image: img, chunkSize: 4096 });
    expect(b.proxy.stats.connections).toBeGreaterThan(before);
    expect(r.resumedFrom.length).toBeGreaterThanOrEqual(1);
    expect(r.notes.join('\n')).toMatch(/still erased: writing on from offset \d+ without erasing|RAM segment: writing on|MRAM segment/);
    expect(r.bytesSent).toBeLessThan(img.length * 1.5);
    expect(await holds(img)).toBe(true);
  });

  it('resumes after the tail write is lost: the partly written last block is dealt with as the firmware allows', async () => {
    // The last 4 KiB block has 1017 bytes: all but the tail (1017 mod unit) are written with it.
    const img = romfsOfLength(20 * 1024 + 1017, 102);
    b.proxy.addRule({ when: { kind: 'pattern', dir: 'toBoard', pattern: 'hilWritten' }, do: { kind: 'drop' } });
    const r = await flashImage(b.device, { ...opts, image: img, chunkSize: 4096 });
    expect(r.notes.join('\n')).toMatch(c.tailResume);
    expect(await holds(img)).toBe(true);
  });

  // RAM cannot refuse a write.
  (c.strategy === 'ram' ? it.skip : it)('a board that refuses writes ends in exit 5 and is never reported flashed', async () => {
    await b.sim.setFailWrites(true);
    try {
      const img = romfsOfLength(6000, 103);
      const err = await flashImage(b.device, { ...opts, image: img, force: true }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BoardRefusedError);
      expect((err as BoardRefusedError).exitCode).toBe(5);
      expect(await holds(img)).toBe(false);
    } finally {
      await b.sim.setFailWrites(false);
    }
  });
});

describe('openmv-n6: a 20 MiB image (past the 24-bit memoryview offsets of a 32-bit board)', () => {
  it('is flashed and verified by the board, reading past 16 MiB through uctypes.bytearray_at', async () => {
    const sim = await startSim({ profile: 'openmv-n6', link: 'pty' });
    cleanups.push(() => sim.stop());
    const device = await openDevice({ connection: sim.connection, profile: 'openmv-n6' });
    cleanups.push(() => device.close());
    const img = romfsOfLength(20 * 1024 * 1024 + 5, 20);
    const r = await flashImage(device, { image: img, onProgress: silentProgress, compress: false });
    expect(r).toMatchObject({ strategy: 'rom-ioctl', verifiedSha256: sha(img), mountChecked: true });
    expect(sha(sim.readSegment(0).subarray(0, img.length))).toBe(sha(img));
    // Skip-if-same hashes the whole 20 MiB on the board too.
    expect((await flashImage(device, { image: img, onProgress: silentProgress })).skipped).toBe(true);
  }, 240_000);
});
