/**
 * Skip-if-same on the simulated board (issue 15): re-flashing the image the board holds is one
 * board program after the connect (the probe, which hashes the segment's first image-length bytes
 * in the same round trip), no soft reset, nothing erased or written, and it is claimed only
 * because the board's hash equals the image's (one byte changed on the board: written again).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { openDevice } from '../device/index.js';
import type { ReplDevice } from '../device/replDevice.js';
import { startSim, type SimBoard } from '../sim/index.js';
import { flashImage } from './flashImage.js';
import { silentProgress } from './progress.js';
import { checkImageBytes, sha256Hex } from './prepareImage.js';
import { flatRomfs } from './testImage.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** What went over the link from record `from` on: programs sent (raw-paste requests) and whether the board rebooted. */
function since(d: ReplDevice, from: number): { programs: number; softReset: boolean; sent: string } {
  const recs = d.transcript.records.slice(from);
  const text = (dir: string) => Buffer.concat(recs.filter((r) => r.dir === dir).map((r) => Buffer.from(r.data))).toString('latin1');
  const sent = text('tx');
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
    expect(s.sent).toMatch(new RegExp(`hashLength[^0-9a-z]{1,12}${image.length}[^0-9]`));

    // An image the caller already read and checked (hil flash does, before any board) is not
    // read or parsed again: the path it came from is not even looked at.
    const prepared = checkImageBytes(image, 'checked.img');
    const again = d.transcript.records.length;
    const p = await flashImage(d, { prepared, imagePath: '/nonexistent/checked.img', onProgress: silentProgress });
    expect(p).toMatchObject({ skipped: true, image: 'checked.img', verifiedSha256: sha256Hex(image) });
    expect(since(d, again).programs).toBe(1);

    // The same length, one byte different: the board's hash differs, so it is written and proven.
    const other = Uint8Array.from(image);
    other[other.length - 3] ^= 0xff;
    const w = await flashImage(d, { image: other, onProgress: silentProgress });
    expect(w).toMatchObject({ skipped: false, verifiedSha256: sha256Hex(other), mountChecked: true });
  }, 120_000);
});
