/**
 * The inference check's pure parts on constructed outputs and console text: golden comparison
 * (exact, tolerance, dtype, shape, NaN), golden files, the fault banners of the firmware's fault
 * handlers, and the scenario keys of the models check.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { firstDifference, goldenPath, readGolden, writeGolden, type GoldenFile, type ModelOutputs } from './golden.js';
import { findFault, findReboot, rebootedSince } from './crash.js';
import { parseScenario } from '../loadScenario.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-inference-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const out = (values: number[][], dtype = values.map(() => 'b'), shape = values.map((v) => [1, v.length])): ModelOutputs => ({ dtype, shape, values, counts: values.map((v) => v.length) });

describe('golden comparison', () => {
  it('is exact by default and names the output, the first differing index, expected and got', () => {
    expect(firstDifference(out([[0.78125, 0.21875]]), out([[0.78125, 0.21875]]))).toBeUndefined();
    expect(firstDifference(out([[0.78125, 0.21875]]), out([[0.78125, 0.21876]]))).toEqual({ output: 0, index: 1, what: 'index 1: expected 0.21875, got 0.21876' });
    expect(firstDifference(out([[1], [0, 0.5, 2]]), out([[1], [0, 0.5, 3]]))).toEqual({ output: 1, index: 2, what: 'index 2: expected 2, got 3' });
  });

  it('allows an absolute tolerance', () => {
    expect(firstDifference(out([[2.48231]]), out([[2.4833]]), 0.001)).toBeUndefined();
    expect(firstDifference(out([[2.48231]]), out([[2.4843]]), 0.001)?.what).toBe('index 0: expected 2.48231, got 2.4843');
  });

  it('checks output count, dtype and shape before values; NaN equals only NaN', () => {
    expect(firstDifference(out([[1]]), out([[1], [2]]))?.what).toBe('2 outputs, expected 1');
    expect(firstDifference(out([[1]], ['b']), out([[1]], ['f']))?.what).toBe("dtype 'f', expected 'b'");
    expect(firstDifference(out([[1, 2]], ['b'], [[1, 2]]), out([[1, 2]], ['b'], [[2, 1]]))?.what).toBe('shape [2,1], expected [1,2]');
    expect(firstDifference(out([[NaN]]), out([[NaN]]))).toBeUndefined();
    expect(firstDifference(out([[NaN]]), out([[0]]), 1)?.index).toBe(0);
  });

  it('writes and reads golden files as golden/<model path>.json; refuses a file that is not one', () => {
    const g: GoldenFile = {
      format: 'hil-golden/1', model: 'models/net.tflite', input: { kind: 'zeros' }, ...out([[0.5, 0.25]]),
      firmware: { profile: 'qemu-mps2-an500', machine: 'mps2-an500 with Cortex-M7' }, image: { sha256: 'ab', source: 'x' }, recordedAt: '2026-12-01T00:00:00Z',
    };
    const file = writeGolden(join(tmp, 'golden'), g);
    expect(file).toBe(join(tmp, 'golden', 'models', 'net.tflite.json'));
    expect(goldenPath(join(tmp, 'golden'), 'models/net.tflite')).toBe(file);
    expect(readGolden(join(tmp, 'golden'), 'models/net.tflite')).toEqual(g);
    expect(readGolden(join(tmp, 'golden'), 'other.tflite')).toBeUndefined();
    writeFileSync(join(tmp, 'golden', 'bad.tflite.json'), '{"values": 1}');
    expect(() => readGolden(join(tmp, 'golden'), 'bad.tflite')).toThrow(/bad\.tflite\.json: not a hil golden file/);
  });
});

describe('fault banners on the console', () => {
  const qemu = 'hil: loading person_detect.tflite\r\nHardFault exception caught:\r\n\r\nCPU registers:\r\nR0:   60C001E2 R1:   00000000 R2:   00000000 R3:   00000000\r\nxPSR: 01000000\r\n';
  it("reads the qemu port's errorhandler dump and the stage the check announced before it", () => {
    const f = findFault(qemu)!;
    expect(f.banner).toBe('HardFault exception caught:');
    expect(f.stage).toEqual({ what: 'loading', path: 'person_detect.tflite' });
    expect(f.text).toEqual(['HardFault exception caught:', '', 'CPU registers:', 'R0:   60C001E2 R1:   00000000 R2:   00000000 R3:   00000000', 'xPSR: 01000000']);
  });

  it("reads the stm32 port's HardFault dump, and a fault while running", () => {
    const f = findFault('hil: loading a.tflite\nhil: running a.tflite\nHardFault\r\nR0    081e01e2\r\n')!;
    expect([f.banner, f.stage?.what, f.text]).toEqual(['HardFault', 'running', ['HardFault', 'R0    081e01e2']]);
  });

  it('claims no fault where there is no banner (a word in a model name or an answer is not one)', () => {
    expect(findFault('hil: loading HardFault_detector.tflite\r\n@@hil 0123 V c00000000 2 c0000 {}\r\n')).toBeUndefined();
    expect(findFault('')).toBeUndefined();
  });
});

describe('scenario keys of the models check', () => {
  const parse = (models: unknown) => parseScenario({ image: '.', checks: [{ models }] }, join(tmp, 'scenario.yaml'));
  const opts = (models: unknown) => (parse(models).checks[0] as { options: Record<string, unknown> }).options;

  it('defaults: zeros, exact, golden/ in the scenario folder, the reverse pass, 3 steady runs', () => {
    expect(opts({})).toMatchObject({ inputs: {}, tolerance: {}, goldenDir: join(tmp, 'golden'), sequence: true, runs: 3 });
  });

  it('reads inputs, tolerance, golden, sequence and runs', () => {
    expect(opts({
      inputs: { 'a.tflite': { pattern: 7 }, 'b.tflite': { file: 'inputs/b.bin' }, 'c.tflite': { image: 'templates/calibration.jpg' }, 'd.tflite': 'zeros' },
      tolerance: { 'a.tflite': 0.01 }, golden: 'ref', sequence: false, runs: 0,
    })).toMatchObject({
      inputs: { 'a.tflite': { kind: 'pattern', seed: 7 }, 'b.tflite': { kind: 'file', path: 'inputs/b.bin' }, 'c.tflite': { kind: 'image', path: 'templates/calibration.jpg' }, 'd.tflite': { kind: 'zeros' } },
      tolerance: { 'a.tflite': 0.01 }, goldenDir: join(tmp, 'ref'), sequence: false, runs: 0,
    });
  });

  it.each([
    ['an unknown key', { goldens: 'x' }, /field 'checks\[0\]\.models\.goldens' is not a known field/],
    ['an unknown input kind', { inputs: { 'a.tflite': { noise: 1 } } }, /models\.inputs\.a\.tflite\.noise' is not a known field/],
    ['two input kinds', { inputs: { 'a.tflite': { pattern: 1, file: 'x' } } }, /models\.inputs\.a\.tflite' must be one of zeros/],
    ['a negative seed', { inputs: { 'a.tflite': { pattern: -1 } } }, /pattern' must be an integer seed/],
    ['an input outside the image', { inputs: { 'a.tflite': { file: '../x.bin' } } }, /file' must be a file's path inside the image/],
    ['a negative tolerance', { tolerance: { 'a.tflite': -0.1 } }, /tolerance\.a\.tflite' must be a number >= 0/],
    ['runs that are not an integer', { runs: 1.5 }, /runs' must be an integer from 0 to 1000/],
  ])('refuses %s, naming the field', (_what, models, want) => {
    expect(() => parse(models)).toThrow(want);
  });
});

describe('a board that reboots under a model', () => {
  const loading = 'R\x01\x00\x01\x04hil: loading a.tflite (uptime 5230 ms)\r\n';
  it('is seen on the console: a boot banner (upstream, OpenMV) or the soft-reboot line after the stage line', () => {
    for (const banner of ['MicroPython v1.27.0 on 2026-01-01; OpenMV4-H7 with STM32H743', 'OpenMV v4.7.0; MicroPython v1.27.0; OPENMV4 with STM32H743', 'MPY: soft reboot']) {
      const f = findReboot(`${loading}${banner}\r\nType "help()" for more information.\r\n>>> `)!;
      expect([f.kind, f.banner, f.stage]).toEqual(['reset', banner, { what: 'loading', path: 'a.tflite', uptimeMs: 5230 }]);
      expect(f.text[0]).toBe('hil: loading a.tflite (uptime 5230 ms)');
    }
    // not before the check announced a model, not without a banner
    expect(findReboot('MPY: soft reboot\r\nhil: loading a.tflite (uptime 5 ms)\r\n')).toBeUndefined();
    expect(findReboot(loading)).toBeUndefined();
    expect(findReboot('hil: loading MicroPython.tflite\r\n')).toBeUndefined();
  });

  it('or from its uptime when it answers again: less than at the stage line is a reset, more is not', () => {
    const f = rebootedSince(`${loading}hil: running a.tflite (uptime 5400 ms)\r\n`, { uptimeMs: 812, markKept: true })!;
    expect([f.kind, f.banner, f.stage?.what]).toEqual(['reset', 'uptime 812 ms when it answered again, 5400 ms as running began', 'running']);
    expect(rebootedSince(loading, { uptimeMs: 9000, markKept: true })).toBeUndefined();
    expect(rebootedSince('hil: loading a.tflite\r\n', { uptimeMs: 1, markKept: true })).toBeUndefined(); // a board without ticks: nothing claimed
  });

  it('or from the mark the check left in its RAM: gone is a reset whatever the uptimes (a board up for less than the reconnect took)', () => {
    const f = rebootedSince(loading, { uptimeMs: 9000, markKept: false })!;
    expect([f.kind, f.banner, f.stage?.what]).toEqual(['reset', 'the mark hil left in its RAM before loading is gone: it rebooted; uptime 9000 ms when it answered again, 5230 ms as loading began', 'loading']);
    expect(rebootedSince('hil: loading a.tflite\r\n', { uptimeMs: null, markKept: false })?.banner).toBe('the mark hil left in its RAM before loading is gone: it rebooted; uptime unknown when it answered again, unknown as loading began');
    // no stage line: the check's program never got to the model; nothing claimed
    expect(rebootedSince('R\x01\x00\x01', { uptimeMs: 1, markKept: false })).toBeUndefined();
  });
});
