/**
 * Skip-if-same on the simulated board (issue 15): re-flashing the image the board holds is one
 * board program after the connect, the small skip probe (flash/skip_probe.py, which hashes the
 * segment's first image-length bytes), not the full probe (flash/probe.py: writability, erase
 * block, DFU facts, free heap), no soft reset, nothing erased or written, and it is claimed only
 * because the board's hash equals the image's (one byte changed on the board: the full probe
 * follows, without hashing again, and the image is written and proven).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { openDevice } from '../device/index.js';
import { unpackProgram } from '../device/sealed.js';
import type { ReplDevice } from '../device/replDevice.js';
import { startSim, type SimBoard } from '../sim/index.js';
import { flashImage } from './flashImage.js';
import { silentProgress } from './progress.js';
import { checkImageBytes } from './prepareImage.js';
import { sha256Hex } from '../sha256.js';
import { flatRomfs } from './testImage.js';
import { flashProgram } from './programs.js';
import { defaultHil, repoRoot, runHil } from '../fault/spawnHil.js';

/** Text only the full probe (flash/probe.py) sends. */
const FULL_PROBE = /unique_id|mem_free|_f\(6, _P/;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** What went over the link from record `from` on: programs sent (raw-paste requests) and whether the board rebooted. */
function since(d: ReplDevice, from: number): { programs: number; softReset: boolean; sent: string } {
  const recs = d.transcript.records.slice(from);
  const text = (dir: string) => Buffer.concat(recs.filter((r) => r.dir === dir).map((r) => Buffer.from(r.data))).toString('latin1');
  const sent = text('tx').split('\x05A\x01').map(unpackProgram).join('\x05A\x01');
  return { programs: sent.split('\x05A\x01').length - 1, softReset: /soft reboot/.test(text('rx')), sent };
}

describe('skip-if-same, simulated board', () => {
  it('is one probe round trip and no soft reset; a board differing in one byte is written', async () => {
    const image = flatRomfs([{ name: 'model.tflite', data: randomBytes(24 * 1024) }, { name: 'labels.txt', data: Buffer.from('a\nb\n') }], 16);
    const sim: SimBoard = await startSim({ profile: 'openmv-h7', link: 'pty', image });
    cleanups.push(() => sim.stop());
    const d = (await openDevice({ connection: sim.connection, profile: 'openmv-h7' })) as ReplDevice;
    cleanups.push(() => d.close());

    const from = d.transcript.records.length;
    const r = await flashImage(d, { image, onProgress: silentProgress });
    expect(r).toMatchObject({ skipped: true, bytesSent: 0, verifiedSha256: sha256Hex(image), mountChecked: false });
    const s = since(d, from);
    expect(s.programs).toBe(1);
    expect(s.softReset).toBe(false);
    expect(s.sent).toMatch(new RegExp(`length[^0-9a-z]{1,12}${image.length}[^0-9]`));
    expect(s.sent).toMatch(/rom_ioctl\(2, _P/);
    expect(s.sent).not.toMatch(FULL_PROBE);
    // Fewer bytes than the full probe's program alone (each 128 bytes is a raw-paste round trip).
    expect(s.sent.length).toBeLessThan(flashProgram('probe', { id: 0, reach: image.length }).length);

    // An image the caller already read and checked (hil flash does, before any board) is not
    // read or parsed again: the path it came from is not even looked at.
    const prepared = checkImageBytes(image, 'checked.img');
    const again = d.transcript.records.length;
    const p = await flashImage(d, { prepared, imagePath: '/nonexistent/checked.img', onProgress: silentProgress });
    expect(p).toMatchObject({ skipped: true, image: 'checked.img', verifiedSha256: sha256Hex(image) });
    expect(since(d, again).programs).toBe(1);
    // Nor is it walked as the firmware reads it: only a write's proof needs that.
    expect(prepared.view).toBeUndefined();

    // The same length, one byte different: the board's hash differs, so it is written and proven.
    const other = Uint8Array.from(image);
    other[other.length - 3] ^= 0xff;
    const before = d.transcript.records.length;
    const w = await flashImage(d, { image: other, onProgress: silentProgress });
    expect(w).toMatchObject({ skipped: false, strategy: 'rom-ioctl', verifiedSha256: sha256Hex(other), mountChecked: true });
    const ws = since(d, before).sent;
    // The skip probe, then the full probe: the segment is not hashed a second time before writing.
    expect(ws).toMatch(FULL_PROBE);
    expect(ws.search(/rom_ioctl\(2, _P/)).toBeLessThan(ws.search(FULL_PROBE));
    // Hashed twice in all: by the skip probe and by the proof after writing (not by the full probe).
    expect(ws.split('hashlib.sha256(').length - 1).toBe(2);
  }, 120_000);

  it('hil flash of the image the board holds (bin/hil.js, build first) says so and loads no strategy, planning, sending or proof module', async () => {
    const image = flatRomfs([{ name: 'model.tflite', data: randomBytes(8 * 1024) }, { name: 'labels.txt', data: Buffer.from('a\nb\n') }], 16);
    const dir = mkdtempSync(join(tmpdir(), 'hil-skip-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'same.img');
    writeFileSync(file, image);
    const sim: SimBoard = await startSim({ profile: 'openmv-h7', link: 'pty', image });
    cleanups.push(() => sim.stop());
    const hil = defaultHil();
    const p = await runHil([hil[0]!, '--import', join(repoRoot(), 'test', 'startup', 'loadedModules.mjs'), ...hil.slice(1)], ['flash', file, '--device', sim.connection, '--profile', 'openmv-h7', '--json'], new AbortController().signal);
    expect(p.code).toBe(0);
    expect(JSON.parse(p.stdout)).toMatchObject({ skipped: true, strategy: null, strategyChoice: null, bytesSent: 0, verifiedSha256: sha256Hex(image) });
    const modules = p.stderr.split('\n').filter((l) => l.startsWith('HIL_LOADED ')).map((l) => l.slice('HIL_LOADED '.length));
    expect(modules.some((m) => /\/dist\/harness\/flash\/flashImage\.js$/.test(m))).toBe(true);
    const unneeded = modules.filter((m) => /\/dist\/harness\/flash\/(strategies\/|dfu\/|chooseStrategy|strategyTable|planTransfer|sendImage|verifyFlash|receiver)/.test(m) || /node_modules\/@(micropython|pybricks)\//.test(m));
    expect(unneeded).toEqual([]);
  }, 120_000);
});
