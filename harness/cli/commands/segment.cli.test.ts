/**
 * `hil image build/verify --segment N`: the image is judged against segment N of the profile (its
 * size and origin), e.g. the AE3's segment 1, MRAM at 0x8047E000 of 1 MiB, not segment 0's 24 MiB.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { captureOutput } from '../../../test/helpers/captureOutput.js';
import { main } from '../main.js';
import { loadProfile, profileForSegment } from '../../profile/profile.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-segment-cli-'));
process.env.XDG_CACHE_HOME ??= join(tmp, 'cache');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const io = captureOutput();

describe('segments of a profile', () => {
  it('profileForSegment gives segment N as the partition, and refuses a segment the board lacks', () => {
    const ae3 = loadProfile('openmv-ae3');
    expect(profileForSegment(ae3, 0)).toBe(ae3);
    expect(profileForSegment(ae3, 1).partition).toMatchObject({ origin: 0x8047e000, size: 0x100000, device: 'mram' });
    expect(() => profileForSegment(ae3, 2)).toThrow(/^--segment 2: profile openmv-ae3 has segments 0 to 1$/);
    expect(() => profileForSegment(loadProfile('openmv-h7'), 1)).toThrow(/^--segment 1: profile openmv-h7 has segment 0 only$/);
  });

  it('hil image build --segment 1 (AE3) sizes the image against 1 MiB of MRAM', async () => {
    const src = join(tmp, 'big');
    mkdirSync(src);
    writeFileSync(join(src, 'blob.bin'), Buffer.alloc(1300000, 7));
    expect(await main(['image', 'build', src, '--profile', 'openmv-ae3', '-o', join(tmp, 'big0.img')])).toBe(0);
    expect(io.stdout).toMatch(/of 24576\.0 KiB \(profile\)/);
    io.stdout = '';
    expect(await main(['image', 'build', src, '--profile', 'openmv-ae3', '--segment', '1', '-o', join(tmp, 'big1.img')])).toBe(2);
    expect(io.stderr).toMatch(/image is 1300040 bytes, partition holds 1048576 \(from profile openmv-ae3\)/);
    io.stderr = '';
    expect(await main(['image', 'verify', join(tmp, 'big0.img'), '--profile', 'openmv-ae3', '--segment', '1'])).toBe(0);
    expect(io.stdout).toMatch(/image is 1300040 bytes, openmv-ae3's nominal partition is 1048576/);
    io.stdout = '';
    expect(await main(['image', 'verify', join(tmp, 'big0.img'), '--profile', 'openmv-ae3', '--segment', '3'])).toBe(2);
    expect(io.stderr).toBe('hil: --segment 3: profile openmv-ae3 has segments 0 to 1\n');
  }, 60_000);
});
