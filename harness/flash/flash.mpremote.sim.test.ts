/**
 * hil against mpremote's own method (`romfs deploy`, re-implemented in harness/bench/
 * mpremoteMethod.ts) on the same simulated personality: hil must flash every image that method
 * lands, and refuse nothing it can write. Both are judged by the segment file.
 */
import { createHash } from 'node:crypto';
import { afterAll, describe, expect, it } from '@jest/globals';
import { openDevice } from '../device/index.js';
import { startSim } from '../sim/index.js';
import { loadProfile, type FirmwareApi } from '../profile/profile.js';
import { mpremoteDeploy } from '../bench/mpremoteMethod.js';
import { flashImage } from './flashImage.js';
import { silentProgress } from './progress.js';
import { romfsOfLength } from './testImage.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const cases: { profile: string; api: FirmwareApi; segment: number }[] = [
  { profile: 'openmv-h7', api: 'released', segment: 0 },
  { profile: 'openmv-h7', api: 'master', segment: 0 },
  { profile: 'openmv-h7-plus', api: 'released', segment: 0 },
  { profile: 'openmv-n6', api: 'released', segment: 0 },
  { profile: 'openmv-rt1062', api: 'released', segment: 0 },
  { profile: 'openmv-ae3', api: 'released', segment: 1 },
];

describe.each(cases)('$profile ($api), segment $segment: hil vs mpremote romfs deploy', ({ profile, api, segment }) => {
  it('hil flashes every image mpremote lands and refuses none of them', async () => {
    const sim = await startSim({ profile, firmwareApi: api, link: 'pty' });
    cleanups.push(() => sim.stop());
    const device = await openDevice({ connection: sim.connection, profile });
    cleanups.push(() => device.close());
    const size = loadProfile(profile).segments[segment]!.size;
    // A whole segment only where mpremote's 4 KiB execs are few (the H7's 128 KiB).
    const lengths = [13, 4097, 8192 + 31, ...(size <= 128 * 1024 ? [size] : []), size + 1];
    let landedByMpremote = 0;
    for (const [i, n] of lengths.entries()) {
      const img = n > size ? new Uint8Array(0) : romfsOfLength(n, 200 + i);
      if (n > size) {
        // Too big: both refuse before writing (mpremote: "too big for the target partition").
        const big = romfsOfLength(n, 300);
        const m = await mpremoteDeploy(device, big, segment);
        expect(m.refused).toMatch(/too big/);
        const h = await flashImage(device, { image: big, partition: segment, onProgress: silentProgress, skipMountCheck: true }).catch((e: unknown) => e);
        expect((h as { exitCode?: number }).exitCode).toBe(2);
        continue;
      }
      const m = await mpremoteDeploy(device, img, segment);
      const mLanded = sha(sim.readSegment(segment).subarray(0, n)) === sha(img);
      expect(mLanded).toBe(m.landed);
      if (mLanded) landedByMpremote++;
      // Something else on the segment, then hil writes the image.
      await flashImage(device, { image: romfsOfLength(n, 900 + i), partition: segment, onProgress: silentProgress, skipMountCheck: true, force: true });
      await flashImage(device, { image: img, partition: segment, onProgress: silentProgress, skipMountCheck: true }).catch(() => undefined);
      const hLanded = sha(sim.readSegment(segment).subarray(0, n)) === sha(img);
      if (mLanded) expect({ n, hLanded }).toEqual({ n, hLanded: true });
      if (!hLanded) expect({ n, mLanded }).toEqual({ n, mLanded: false });
    }
    // The method this comparison is against does write these boards (or the comparison is empty).
    expect(landedByMpremote).toBeGreaterThan(0);
  }, 180_000);
});
