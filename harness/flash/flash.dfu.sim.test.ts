/**
 * The dfu strategy (OpenMV IDE's path) end to end on the simulated board: hil reads the board's
 * identity, sends machine.bootloader() (the sim resets, as a cam does into its bootloader), runs
 * `dfu-util` — here the labelled TEST DOUBLE test/doubles/dfu-util, first on PATH, which plays the
 * OpenMV or Arduino DFU bootloader over the sim's segment file — reads back with -U, finds the
 * application again and proves the image by the board's sha256 and the /rom listing. Judged by
 * the segment file and by the dfu-util invocations the double logged.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { openDevice, type Device } from '../device/index.js';
import { startSim, type SimBoard } from '../sim/index.js';
import { loadProfile, formatUsbId } from '../profile/profile.js';
import { InfraError } from '../errors.js';
import { flashImage } from './flashImage.js';
import { NoStrategyError } from './errors.js';
import { probeBoard } from './probeBoard.js';
import { silentProgress } from './progress.js';
import { flatRomfs, romfsOfLength } from './testImage.js';
import { openmvBootloaderSerial } from './dfu/bootloaderSerial.js';

const here = dirname(fileURLToPath(import.meta.url));
const doubles = resolve(here, '../../test/doubles');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const text = (s: string) => new TextEncoder().encode(s);

let dir: string;
const savedPath = process.env.PATH;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hil-dfu-test-'));
  process.env.PATH = `${doubles}:${savedPath}`;
  process.env.HIL_DFU_DOUBLE_DEVICES = join(dir, 'devices.json');
  process.env.HIL_DFU_DOUBLE_LOG = join(dir, 'log.jsonl');
});
afterAll(() => {
  process.env.PATH = savedPath;
  delete process.env.HIL_DFU_DOUBLE_DEVICES;
  delete process.env.HIL_DFU_DOUBLE_LOG;
  rmSync(dir, { recursive: true, force: true });
});

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  rmSync(join(dir, 'log.jsonl'), { force: true });
});

/** A simulated board and, in the double's registry, its DFU bootloader over the segment files. */
async function board(profileName: string, opts: { failWrites?: boolean } = {}): Promise<{ device: Device; sim: SimBoard; serial?: string }> {
  const profile = loadProfile(profileName);
  const sim = await startSim({ profile, link: 'pty' });
  cleanups.push(() => sim.stop());
  const device = await openDevice({ connection: sim.connection, profile });
  cleanups.push(() => device.close());
  const dfu = profile.dfu!;
  let serial: string | undefined;
  if (dfu.bootloader) {
    const uid = (await probeBoard(device, 0)).uniqueId;
    serial = dfu.loader === 'openmv' ? openmvBootloaderSerial(uid) : 'ARDUINO0001';
    const [vid, pid] = formatUsbId(dfu.bootloader).split(':');
    const alts = Object.entries(dfu.alt ?? {}).map(([seg, alt]) => {
      const s = profile.segments[Number(seg)]!;
      return { alt, name: `ROMFS${seg}`, file: sim.segmentFiles[Number(seg)], size: s.size, eraseBlock: s.eraseBlock, address: dfu.address ?? s.origin };
    });
    writeFileSync(join(dir, 'devices.json'), JSON.stringify({ devices: [{ vid, pid, serial, dfuse: dfu.loader === 'arduino', failWrites: opts.failWrites ?? false, alts }] }));
  }
  return { device, sim, serial };
}

const calls = (): string[][] => (existsSync(join(dir, 'log.jsonl')) ? readFileSync(join(dir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { argv: string[] }).argv) : []);

function demo(seed: string): Uint8Array {
  return flatRomfs([{ name: 'main.py', data: text(`print(${JSON.stringify(seed)})\n`.repeat(40)) }, { name: 'd.dat', data: romfsOfLength(5000, seed.length) }], 16);
}

describe('hil flash --strategy dfu (test double of dfu-util)', () => {
  it('OpenMV H7: bootloader by VID:PID and the serial derived from machine.unique_id, alt 3, read back, /rom checked', async () => {
    const { device, sim, serial } = await board('openmv-h7');
    expect(serial).toMatch(/^[0-9A-F]{24}$/);
    const image = demo('h7 via dfu');
    const r = await flashImage(device, { image, strategy: 'dfu', onProgress: silentProgress });
    expect(r).toMatchObject({ strategy: 'dfu', skipped: false, verifiedSha256: sha(image), mountChecked: true });
    expect(r.strategyChoice?.how).toBe('requested');
    expect(sha(sim.readSegment(0).subarray(0, image.length))).toBe(sha(image));
    const [dl, ul] = calls();
    expect(dl).toEqual(['-w', '-d', ',37c5:9204', '-a', '3', '-S', serial!, '-D', expect.stringMatching(/romfs\.img$/)]);
    expect(ul).toEqual(['-w', '-d', ',37c5:9204', '-a', '3', '-S', serial!, '-U', expect.stringMatching(/readback\.img$/), '--reset']);
    // The board was sent into its bootloader before dfu-util ran (the link dropped: it reset).
    const sent = Buffer.concat(device.transcript.records.filter((x) => x.dir === 'tx').map((x) => Buffer.from(x.data))).toString('latin1');
    expect(sent).toContain('machine.bootloader()');
    expect(r.notes.join('\n')).toMatch(/read them back identical/);
  });

  it('Arduino Giga: DfuSe address 0x90B00000 with alt 1, leaving DFU after the read-back', async () => {
    const { device, sim } = await board('arduino-giga');
    const image = demo('giga via dfu');
    const r = await flashImage(device, { image, strategy: 'dfu', onProgress: silentProgress });
    expect(r.verifiedSha256).toBe(sha(image));
    expect(sha(sim.readSegment(0).subarray(0, image.length))).toBe(sha(image));
    const [dl, ul] = calls();
    expect(dl).toEqual(['-w', '-d', ',2341:0366', '-a', '1', '-s', '0x90B00000', '-D', expect.any(String)]);
    expect(ul).toEqual(['-w', '-d', ',2341:0366', '-a', '1', '-s', `0x90B00000:${image.length}:leave`, '-U', expect.any(String)]);
  });

  it('AE3 segment 1 (MRAM) goes to alt 3', async () => {
    const { device, sim } = await board('openmv-ae3');
    const image = romfsOfLength(3001, 7);
    const r = await flashImage(device, { image, strategy: 'dfu', partition: 1, onProgress: silentProgress, skipMountCheck: true });
    expect(r.verifiedSha256).toBe(sha(image));
    expect(sha(sim.readSegment(1).subarray(0, image.length))).toBe(sha(image));
    expect(calls()[0]).toEqual(expect.arrayContaining(['-a', '3']));
  });

  it('a bootloader that fails the download is exit 3 naming the phase; nothing reported flashed', async () => {
    const { device } = await board('openmv-h7', { failWrites: true });
    const err = await flashImage(device, { image: demo('fails'), strategy: 'dfu', onProgress: silentProgress }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfraError);
    expect((err as InfraError).exitCode).toBe(3);
    expect((err as Error).message).toMatch(/dfu-util download failed \(exit 74\): dfu-util: Error during download/);
  });

  it('RT1062: its NXP ROM loader is out of scope, exit 5 with the reason, nothing run', async () => {
    const { device } = await board('openmv-rt1062');
    const err = await flashImage(device, { image: demo('rt'), strategy: 'dfu', onProgress: silentProgress }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoStrategyError);
    expect((err as NoStrategyError).exitCode).toBe(5);
    expect((err as Error).message).toMatch(/NXP's ROM loader/);
    expect(calls()).toEqual([]);
  });

  it('without dfu-util on PATH: one line naming the package, exit 2, the board untouched', async () => {
    const { device, sim } = await board('openmv-h7');
    const before = sha(sim.readSegment(0));
    // A PATH with nothing on it (node's own folder may be /usr/bin, where the real dfu-util is).
    process.env.PATH = join(dir, 'empty-path');
    try {
      const err = await flashImage(device, { image: demo('none'), strategy: 'dfu', onProgress: silentProgress }).catch((e: unknown) => e);
      expect((err as Error).message).toBe('dfu-util not found on PATH: the dfu strategy needs it (Debian package dfu-util: apt-get install dfu-util)');
      expect((err as { exitCode?: number }).exitCode).toBe(2);
    } finally {
      process.env.PATH = `${doubles}:${savedPath}`;
    }
    expect(sha(sim.readSegment(0))).toBe(before);
  });
});
