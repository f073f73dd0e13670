/**
 * The binary channel as a flash uses it, on the simulated board (real MicroPython in wasm behind a
 * pty or TCP) through the real device layer: one acknowledgement per group of frames with at most
 * two groups in flight (seen in the transcript), and a frame lost in the middle of a window
 * caught by the board at once (its offset), sent again through device/resend.ts, and the image
 * proven by the board's hash. Link faults come from hil's fault-injecting link (harness/fault).
 * The sim runs from dist/: `npm run build` first.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from '@jest/globals';
import { openDevice, type Device } from '../device/index.js';
import { startSim } from '../sim/index.js';
import { FaultProxy } from '../fault/faultProxy.js';
import { loadProfile } from '../profile/profile.js';
import { FRAME_HEADER, framesPerAck } from '../repl/binaryChannel.js';
import { flashImage } from './flashImage.js';
import { silentProgress } from './progress.js';
import { sha256Hex } from '../sha256.js';
import { flatRomfs } from './testImage.js';

const profile = loadProfile('openmv-h7');
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('binary channel on the simulated board', () => {
  it('acknowledges once per group of frames, never with more than two groups unacknowledged', async () => {
    const handle = await startSim({ profile, link: 'pty' });
    cleanups.push(() => handle.stop());
    const device: Device = await openDevice({ connection: handle.connection, profile });
    cleanups.push(() => device.close());
    const chunk = 2048;
    const group = framesPerAck(chunk);
    expect(group).toBeGreaterThan(1);
    const data = randomBytes(64 * 1024);
    const from = device.transcript.records.length;
    const progress: number[] = [];
    const r = await device.sendBinary({ setup: 'def _hil_t_s(mv, off):\n    pass', sink: '_hil_t_s' }, data, { chunkSize: chunk, onProgress: (s) => progress.push(s) });
    expect(r.bytes).toBe(data.length);
    const frames = data.length / chunk;
    // The transcript from the channel program's first 0x06 (it runs) to the end of the transfer.
    const recs = device.transcript.records.slice(from);
    let acks = -1; // the first 0x06 says the program runs
    let sent = 0;
    let mostAhead = 0;
    for (const rec of recs) {
      if (rec.dir === 'rx') acks += rec.data.filter((b) => b === 0x06).length;
      if (rec.dir === 'tx' && rec.data.length === FRAME_HEADER + chunk && rec.data[0] === 0x48 && rec.data[1] === 0x42) {
        sent++;
        mostAhead = Math.max(mostAhead, sent - Math.max(0, acks) * group);
      }
    }
    expect(sent).toBe(frames);
    expect(acks).toBe(frames / group); // old channel: one per frame (32)
    expect(mostAhead).toBe(2 * group);
    expect(progress).toEqual(Array.from({ length: frames / group }, (_, i) => (i + 1) * group * chunk));
  }, 120_000);

  it('a frame lost in the middle of a window is caught by the board at once, sent again, and the image verifies', async () => {
    const handle = await startSim({ profile, link: 'tcp' });
    cleanups.push(() => handle.stop());
    const proxy = await FaultProxy.start({ upstream: handle.connection });
    cleanups.push(() => proxy.close());
    const device: Device = await openDevice({ connection: proxy.connection, profile });
    cleanups.push(() => device.close());
    const chunk = 4096;
    const model = randomBytes(48 * 1024);
    const image = flatRomfs([{ name: 'model.tflite', data: model }], 16);
    // A marker ending chunk 2 (inside the model's bytes), so the rule can swallow exactly frame 3
    // (its header and data) and nothing else: the board then gets frame 4 where it expects 3.
    const marker = Buffer.from(`HILMARK${randomBytes(6).toString('hex')}`, 'latin1');
    const end = 3 * chunk;
    const modelAt = Buffer.from(image).indexOf(model.subarray(0, 64));
    expect(modelAt).toBeGreaterThanOrEqual(0);
    expect(end - marker.length).toBeGreaterThan(modelAt);
    expect(end + chunk).toBeLessThan(modelAt + model.length);
    image.set(marker, end - marker.length);
    proxy.addRule({ when: { kind: 'pattern', dir: 'toBoard', pattern: marker }, do: { kind: 'truncate', count: FRAME_HEADER + chunk } });
    const notes: string[] = [];
    const r = await flashImage(device, {
      image, onProgress: { ...silentProgress, note: (m) => notes.push(m) }, compress: false, chunkSize: chunk, force: true,
    });
    expect(proxy.events.filter((e) => e.action === 'truncate')).toHaveLength(1);
    // The board named the gap (old channel: a frame has no offset, so the next one was taken in its place).
    expect(notes.join('\n')).toMatch(/HIL_CHANNEL frame lost at 12288 \(next frame is for 16384\)/);
    expect(r.resumedFrom.length).toBe(1);
    expect(r.verifiedSha256).toBe(sha256Hex(image));
  }, 180_000);
});
