/**
 * The programs of a flash that writes, on the simulated board of a RAM segment (the `ram`
 * strategy, as on MicroPython's QEMU port; issue 15: every 128 bytes of a program is a raw-paste
 * round trip there): the probe, the writer with the channel's sink (it unmounts /rom itself), the
 * channel, its finish, and after the soft reset one proof asking the hash and the /rom listing
 * together. Nothing else, and the probe sends nothing of the segment library or a hash.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { openDevice } from '../device/index.js';
import { unpackProgram } from '../device/sealed.js';
import type { ReplDevice } from '../device/replDevice.js';
import { startSim, type SimBoard } from '../sim/index.js';
import { flashImage } from './flashImage.js';
import { silentProgress } from './progress.js';
import { sha256Hex } from '../sha256.js';
import { flatRomfs } from './testImage.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The programs sent from record `from` on (raw-paste requests), and the text of each. */
function programsSince(d: ReplDevice, from: number): string[] {
  const sent = Buffer.concat(d.transcript.records.slice(from).filter((r) => r.dir === 'tx').map((r) => Buffer.from(r.data))).toString('latin1');
  return sent.split('\x05A\x01').slice(1).map(unpackProgram);
}

describe('programs of a flash that writes (RAM segment, simulated board)', () => {
  it('probe, writer, channel, finish, then one proof after the soft reset (hash and listing in one round trip)', async () => {
    const image = flatRomfs([{ name: 'model.tflite', data: randomBytes(20 * 1024) }, { name: 'labels.txt', data: Buffer.from('a\nb\n') }], 32);
    const sim: SimBoard = await startSim({ profile: 'qemu-mps2-an500', link: 'pty' });
    cleanups.push(() => sim.stop());
    const d = (await openDevice({ connection: sim.connection, profile: 'qemu-mps2-an500' })) as ReplDevice;
    cleanups.push(() => d.close());
    const from = d.transcript.records.length;
    const r = await flashImage(d, { image, force: true, onProgress: silentProgress });
    expect(r).toMatchObject({ skipped: false, strategy: 'ram', verifiedSha256: sha256Hex(image), mountChecked: true });
    const programs = programsSince(d, from);
    expect(programs).toHaveLength(5);
    const [probe, writer, channel, finish, proof] = programs as [string, string, string, string, string];
    expect(probe).toMatch(/unique_id/);
    expect(probe).not.toMatch(/_HilSeg|hashlib\.sha256\(/);
    expect(writer).toMatch(/bytearray_at/);
    expect(writer).toMatch(/umount/);
    expect(channel).toMatch(/kbd_intr/);
    expect(finish).toMatch(/hilWritten/);
    // The proof follows the soft reset (Ctrl-D in the raw REPL before it) and asks both.
    expect(proof).toMatch(/hashlib\.sha256\(/);
    expect(proof).toMatch(/ilistdir/);
    const recs = d.transcript.records.slice(from);
    const reboot = recs.findIndex((x) => x.dir === 'rx' && /soft reboot/.test(Buffer.from(x.data).toString('latin1')));
    expect(reboot).toBeGreaterThan(0);
    const after = Buffer.concat(recs.slice(reboot).filter((x) => x.dir === 'tx').map((x) => Buffer.from(x.data))).toString('latin1');
    expect(after.split('\x05A\x01').length - 1).toBe(1);
  }, 120_000);
});
