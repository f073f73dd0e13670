/**
 * Golden outputs end to end: hil's board-side inference program (harness/board/scenario/inference.py)
 * on real MicroPython (the WasmBoard double: WebAssembly MicroPython in this process), with a TEST
 * DOUBLE of OpenMV's `ml` installed there, because OpenMV's firmware does not run here (see the
 * QEMU test for the real one). The double's network is a fixed function of the model file's bytes
 * and the input bytes, so record, compare, mismatch and tolerance are exercised through the real
 * program, the real sealed answer and the check's own judgement.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WasmBoard } from '../../../test/doubles/wasmBoard.js';
import { loadProfile } from '../../profile/profile.js';
import type { CheckContext, ImageFile } from '../context.js';
import type { ModelsOptions, ScenarioDefinition } from '../definition.js';
import { inferenceCheck } from './inference.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-inference-wasm-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The ml double: Model(path) reads the file; predict() fills the input through ml's input
// callable (buffer, shape, dtype number) and returns 3 float outputs from the input's and the
// model's bytes; BIAS[0] shifts them (another firmware's rounding).
const ML_DOUBLE = `
import sys, binascii
class _Arr:
    def __init__(self, v, shape):
        self._v = v
        self.shape = shape
    def flatten(self):
        return self
    def tolist(self):
        return list(self._v)
class _Model:
    def __init__(self, path):
        with open(path, 'rb') as f:
            self._k = binascii.crc32(f.read()) % 97
        self.input_shape = ((1, 4),)
        self.input_dtype = ('b',)
        self.output_shape = ((1, 3),)
        self.output_dtype = ('f',)
    def predict(self, inputs):
        b = bytearray(4)
        inputs[0](b, (1, 4), ord('b'))
        s = sum(b)
        return [_Arr([(s + self._k + i) * 0.125 + _ml.BIAS[0] for i in range(3)], (1, 3))]
class _ml:
    BIAS = [0.0]
    Model = _Model
sys.modules['ml'] = _ml
`;

let board: WasmBoard;
let device: CheckContext['device'];
beforeAll(async () => {
  board = await WasmBoard.create();
  await board.execRaw(`import os\nos.mkdir('/rom')\nfor n, d in (('a.tflite', b'model a'), ('b.tflite', b'model b')):\n    with open('/rom/' + n, 'wb') as f:\n        f.write(d)\n${ML_DOUBLE}`);
  // The inference check reads the console through the device's transcript; this double has no link.
  device = Object.assign(board.asDevice(), { transcript: { records: [], writeTo: async () => undefined } });
});

const models: ImageFile[] = [{ path: 'a.tflite', offset: 0, size: 7, sha256: '' }, { path: 'b.tflite', offset: 32, size: 7, sha256: '' }];
const profile = loadProfile('openmv-h7');
// The models check reads only `files`; the firmware's view of no bytes: nothing mounts.
const noImage = { mount: { error: 'ENODEV' as const }, entries: [], notStr: [], truncated: false };
const ctx = (recordGolden = false): CheckContext => ({
  device, profile, recordGolden, simulatedBoard: false, timeoutMs: 10_000, log: () => undefined,
  image: {
    source: 'test', kind: 'img', bytes: new Uint8Array(0), sha256: 'f00d', entries: [], files: models,
    firmware: noImage,
    prepared: { name: 'test', bytes: new Uint8Array(0), length: 0, entries: [], sha256: 'f00d', built: false, view: noImage },
  },
  scenario: { dir: tmp } as ScenarioDefinition,
});
const options = (o: Partial<ModelsOptions> = {}): ModelsOptions => ({
  inference: true, outputShapes: {}, requireModels: true, inputs: {}, tolerance: {}, goldenDir: join(tmp, 'golden'), sequence: true, runs: 2, ...o,
});
const bias = (x: number) => board.execRaw(`import ml\nml.BIAS[0] = ${x}`);
const run = (o: Partial<ModelsOptions> = {}, record = false) => inferenceCheck(ctx(record), options(o), models, async () => undefined);

describe('golden outputs through the board-side program', () => {
  it('without golden files passes and says how to record them; latency is in the data', async () => {
    const r = await run();
    expect(r.status).toBe('passed');
    expect(r.details).toContain('a.tflite: no golden outputs (golden/a.tflite.json); record them on a trusted board with hil run --record-golden');
    const a = (r.data as { models: { path: string; values: number[][]; latency: { steadyRunsMs: number[] }; sequence: string }[] }).models[0]!;
    expect(a.values[0]).toHaveLength(3);
    expect(a.latency.steadyRunsMs).toHaveLength(2);
    expect(a.sequence).toBe('same');
  });

  it('--record-golden writes golden/<model>.json with dtype, shape, values, firmware and image', async () => {
    const r = await run({}, true);
    expect(r.status).toBe('passed');
    expect(r.details).toContain('a.tflite: golden outputs recorded in golden/a.tflite.json');
    const g = JSON.parse(readFileSync(join(tmp, 'golden', 'a.tflite.json'), 'utf8'));
    expect(g).toMatchObject({ format: 'hil-golden/1', model: 'a.tflite', input: { kind: 'zeros' }, dtype: ['f'], shape: [[1, 3]], counts: [3], firmware: { profile: 'openmv-h7' }, image: { sha256: 'f00d' } });
    expect(g.values[0]).toHaveLength(3);
    expect(existsSync(join(tmp, 'golden', 'b.tflite.json'))).toBe(true);
  });

  it('a later run matches exactly', async () => {
    const r = await run();
    expect([r.status, r.reason]).toEqual(['passed', undefined]);
    expect(r.details).toContain('a.tflite: outputs match golden/a.tflite.json exactly (recorded on openmv-h7)');
  });

  it('an output that differs is FAIL naming the model, the first differing index, expected and got', async () => {
    const g = JSON.parse(readFileSync(join(tmp, 'golden', 'a.tflite.json'), 'utf8'));
    await bias(0.01);
    try {
      const r = await run();
      expect(r.status).toBe('failed');
      expect(r.failureClass).toBe('product');
      const v = g.values[0][0] as number;
      expect(r.reason).toBe(`a.tflite: output 0 differs from golden/a.tflite.json: index 0: expected ${v}, got ${v + 0.01} (exact) (and 1 more)`);
      // within the model's tolerance it passes
      expect((await run({ tolerance: { 'a.tflite': 0.02, 'b.tflite': 0.02 } })).status).toBe('passed');
      expect((await run({ tolerance: { 'a.tflite': 0.005, 'b.tflite': 0.02 } })).reason).toMatch(/^a\.tflite: output 0 differs .* \(tolerance 0\.005\)$/);
    } finally {
      await bias(0);
    }
  });

  it('the input is the scenario\'s: a seeded pattern is not the zeros golden was recorded with', async () => {
    const r = await run({ inputs: { 'b.tflite': { kind: 'pattern', seed: 7 } } });
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/^b\.tflite: output 0 differs from golden\/b\.tflite\.json: index 0: /);
    // and the same seed gives the same input every time: both passes agree
    expect(r.details.some((d) => /outputs differ between passes/.test(d))).toBe(false);
  });

  it('a raw tensor file from the image of the wrong size is the model\'s FAIL naming both sizes', async () => {
    await board.execRaw("with open('/rom/in.bin', 'wb') as f:\n    f.write(b'\\x01\\x02')");
    const r = await run({ inputs: { 'a.tflite': { kind: 'file', path: 'in.bin' } } });
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/^a\.tflite: first inference failed: ValueError: input file \/rom\/in\.bin has 2 bytes; the input tensor \(1, 4\) takes 4/);
  });
});
