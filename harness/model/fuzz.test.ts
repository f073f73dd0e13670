/**
 * Fuzz (fast-check, seeded): mutated fixture models (byte overwrites with boundary values, bit
 * flips, truncation, 32-bit offset words set to hostile values) and arbitrary bytes behind a TFL3
 * or NBIN head, fed to the parsers and the checks. Only ModelFormatError may come out of a
 * parser (no RangeError, no TypeError), describeModel never throws, and what a parse returns stays
 * inside the input (indices in range, sizes within the file).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseTflite } from './tflite.js';
import { parseNbin, NBIN_MAGIC } from './nbin.js';
import { describeModel, checkModel } from './check.js';
import { loadOpTable } from './opTable.js';
import { ModelFormatError } from './errors.js';
import { loadProfile } from '../profile/profile.js';

const M = fileURLToPath(new URL('../../test/fixtures/models/', import.meta.url));
// person_detect is 300 KB; its first 64 KB keep the table structure (tables first, weights after) and keep runs fast.
const seeds = ['micro_speech', 'force_int_quant', 'fomo_face_detection', 'person_detect'].map((n) => new Uint8Array(readFileSync(`${M}${n}.tflite`)));
const h7 = loadProfile('openmv-h7');
const n6 = loadProfile('openmv-n6');
const table = loadOpTable();

type Edit =
  | { kind: 'byte'; at: number; value: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'word'; at: number; value: number }
  | { kind: 'end'; at: number; back: number }
  | { kind: 'cut'; at: number };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('word' as const), at: fc.nat(), value: fc.constantFrom(0, 4, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffc) }),
  // An offset word pointing within a few bytes of the end (a u32 offset is relative to its own position).
  fc.record({ kind: fc.constant('end' as const), at: fc.nat(), back: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

function mutate(seed: Uint8Array, edits: Edit[]): Uint8Array {
  let b = seed.slice();
  for (const e of edits) {
    if (b.length === 0) break;
    const at = e.at % b.length;
    if (e.kind === 'byte') b[at] = e.value;
    else if (e.kind === 'flip') b[at]! ^= 1 << e.bit;
    else if (e.kind === 'word') {
      // Offsets in a flatbuffer are 4-aligned words: hit those.
      const w = at & ~3;
      if (w + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(w, e.value, true);
    } else if (e.kind === 'end') {
      const w = at & ~3;
      if (w + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(w, Math.max(0, b.length - w - e.back), true);
    } else b = b.slice(0, Math.max(8, at));
  }
  return b;
}

function parsesOrRefuses(b: Uint8Array): 'ok' | 'refused' {
  try {
    const m = parseTflite(b);
    // Plain checks (expect() per element would dominate the run time).
    for (const sg of m.subgraphs) {
      for (const op of sg.operators) {
        if (op.opcodeIndex >= m.operatorCodes.length) throw new Error(`opcode index ${op.opcodeIndex} out of range`);
        for (const t of [...op.inputs, ...op.outputs]) if (!(t >= -1 && t < sg.tensors.length)) throw new Error(`tensor index ${t} out of range`);
      }
      for (const t of sg.tensors) if (t.constBytes > b.length) throw new Error(`buffer of ${t.constBytes} bytes in a ${b.length}-byte model`);
    }
    return 'ok';
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw new Error(`not a ModelFormatError: ${(e as Error).stack}`);
    if (e.message.includes('\n')) throw new Error(`multi-line message: ${e.message}`);
    return 'refused';
  }
}

describe('fuzzing the model parsers', () => {
  it('mutated fixture models: only ModelFormatError, results inside the input, checks never throw', () => {
    let refused = 0;
    let runs = 0;
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), fc.array(editArb, { minLength: 1, maxLength: 6 }), (s, edits) => {
        const seed = seeds[s]!;
        const b = mutate(s === 3 ? seed.subarray(0, 65536) : seed, edits);
        runs++;
        if (parsesOrRefuses(b) === 'refused') refused++;
        const facts = describeModel(b);
        checkModel(facts, h7, table);
      }),
      { seed: 0x5eed14, numRuns: 1000 },
    );
    // The mutations must reach the error paths, and not only them.
    expect(refused).toBeGreaterThan(runs / 20);
    expect(refused).toBeLessThan(runs);
  });

  it('arbitrary bytes behind a TFL3 head: only ModelFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), fc.nat(), (body, root) => {
        const b = new Uint8Array(8 + body.length);
        new DataView(b.buffer).setUint32(0, root % (b.length + 8), true);
        b.set([0x54, 0x46, 0x4c, 0x33], 4);
        b.set(body, 8);
        parsesOrRefuses(b);
        checkModel(describeModel(b), h7, table);
      }),
      { seed: 0x7f13, numRuns: 3000 },
    );
  });

  it('arbitrary NBIN headers: only ModelFormatError; sizes inside the file when accepted', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 0xffffffff }), { minLength: 0, maxLength: 30 }), fc.nat({ max: 4096 }), (words, extra) => {
        const b = new Uint8Array(4 + words.length * 4 + extra);
        const v = new DataView(b.buffer);
        v.setUint32(0, NBIN_MAGIC, true);
        words.forEach((w, i) => v.setUint32(4 + i * 4, w, true));
        try {
          const h = parseNbin(b);
          expect(h.sizes.paramsOffset).toBeLessThanOrEqual(b.length);
          expect(h.sizes.data).toBeGreaterThanOrEqual(0);
        } catch (e) {
          if (!(e instanceof ModelFormatError)) throw e;
        }
        checkModel(describeModel(b), n6, table);
      }),
      { seed: 0x4e42, numRuns: 2000 },
    );
  });
});
