/**
 * Fuzz: seeded mutations of real images (bit flips, byte overwrites with boundary values,
 * truncation, insertion, deletion, varuint-length bumps) fed to the strict parser and to
 * inspect/verify. Only RomfsFormatError may come out; a result must stay inside the input. The
 * 100k-case run lives in the fault/fuzz work (issue 6); this keeps a few thousand cases.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parseRomfs } from './parse.js';
import { RomfsFormatError } from './errors.js';
import { inspectImage } from './inspect.js';
import { verifyStructure } from './verify.js';
import { loadProfile } from '../profile/profile.js';
import { mutateImage, seededRandom } from './mutate.js';

const F = fileURLToPath(new URL('../../test/fixtures/romfs/', import.meta.url));
const seeds = ['demo.mpremote.img', 'openmv-flat.img', 'micropython-random.img'].map((n) => new Uint8Array(readFileSync(F + n)));
const h7 = loadProfile('openmv-h7');

describe('fuzzing the parser with mutated images', () => {
  it('3000 seeded mutants: only RomfsFormatError, results inside the input', () => {
    const rnd = seededRandom(0xc0ffee);
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const base = seeds[i % seeds.length]!;
      // Small images keep the run fast: mutate a prefix-truncated copy half the time.
      const input = mutateImage(i % 2 ? base : base.subarray(0, Math.min(base.length, 2048)), rnd);
      try {
        const img = parseRomfs(input);
        expect(img.imageLength).toBeLessThanOrEqual(input.length);
        for (const e of img.entries) if (e.type === 'file') expect(e.offset + e.size).toBeLessThanOrEqual(img.imageLength);
        inspectImage(input, img);
        verifyStructure(input, h7);
      } catch (e) {
        if (!(e instanceof RomfsFormatError)) throw new Error(`mutant ${i}: ${(e as Error).stack}`);
        expect(e.message).not.toContain('\n');
        rejected++;
      }
    }
    // The mutations must actually reach the error paths.
    expect(rejected).toBeGreaterThan(300);
  });

  it('hostile structure: deep nesting and huge varuints are refused, not recursed into', () => {
    // 200 nested directories, each `04 <len> 01 'd'` with minimal lengths.
    let inner = new Uint8Array(0);
    for (let i = 0; i < 200; i++) {
      const payload = new Uint8Array([1, 0x64, ...inner]);
      const len = payload.length;
      const lenBytes = len < 128 ? [len] : len < 16384 ? [0x80 | (len >> 7), len & 0x7f] : [0x80 | (len >> 14), 0x80 | ((len >> 7) & 0x7f), len & 0x7f];
      inner = new Uint8Array([4, ...lenBytes, ...payload]);
    }
    const len = inner.length;
    const img = new Uint8Array([0xd2, 0xcd, 0x31, 0x80 | (len >> 7), len & 0x7f, ...inner]);
    expect(() => parseRomfs(img)).toThrow(RomfsFormatError);
    expect(() => parseRomfs(new Uint8Array([0xd2, 0xcd, 0x31, ...new Array(20).fill(0xff), 0x01]))).toThrow(/varuint too large/);
  });
});
