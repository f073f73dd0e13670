/**
 * `hil run scenarios/model-load` end to end on the simulated board (real MicroPython in wasm with a
 * ROMFS partition), through the real device, flash and scenario layers: passes with the image hil
 * builds from images/demo; fails naming model.tflite, its offset and address with mpremote's image;
 * a bench of several simulated boards in parallel with a JUnit file that parses and counts that
 * match; one unreachable board does not stop the others; the embedded default says what it did.
 */
import { mkdtempSync, rmSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { XMLParser } from 'fast-xml-parser';
import { runScenarios } from '../bench/runScenarios.js';
import { toJUnit } from '../report/junit.js';
import type { RunResult } from './result.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const d = describe;

const tmp = mkdtempSync(join(tmpdir(), 'hil-run-sim-'));
const lockDir = join(tmp, 'locks');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const statuses = (r: RunResult, dev = 0) => Object.fromEntries(r.devices[dev]!.scenarios[0]!.checks.map((c) => [c.name, c.status]));
const modelLoad = join(root, 'scenarios/model-load');

d('hil run scenarios/model-load on the simulated board', () => {
  it('passes with the image built from images/demo; inference is SIMULATED, never passed', async () => {
    const r = await runScenarios({ scenarios: [modelLoad], device: 'sim:openmv-h7', cwd: root, lockDir, outDir: join(tmp, 'out1') });
    const dev = r.devices[0]!;
    expect(dev.error).toBeUndefined();
    expect(dev.scenarios[0]!.error).toBeUndefined();
    expect(statuses(r)).toEqual({ listing: 'passed', imports: 'passed', 'models.placement': 'passed', 'models.inference': 'simulated' });
    expect(r.exitCode).toBe(0);
    const imports = dev.scenarios[0]!.checks[1]!;
    expect(imports.details).toContain('app.run(): returned 0.6');
    expect(dev.scenarios[0]!.flash?.written).toBe(true);
    const outDir = join(tmp, 'out1', 'sim_openmv-h7');
    expect(dev.files).toEqual([join(outDir, 'transcript.txt'), join(outDir, 'log.txt')]);
    expect(readdirSync(outDir).sort()).toEqual(['log.txt', 'transcript.txt']);
    expect(readFileSync(join(outDir, 'transcript.txt'), 'utf8')).toMatch(/ tx /);
    expect(readFileSync(join(outDir, 'log.txt'), 'utf8')).toMatch(/check models\.inference: simulated/);
  });

  it("fails with mpremote's image, naming model.tflite, its offset and its address; loading it resets the board (stm32's HardFault handler)", async () => {
    const r = await runScenarios({
      scenarios: [modelLoad], device: 'sim:openmv-h7', cwd: root, lockDir, image: join(root, 'test/fixtures/romfs/demo.mpremote.img'),
    });
    expect(statuses(r)).toEqual({ listing: 'passed', imports: 'passed', 'models.placement': 'failed', 'models.inference': 'failed' });
    expect(r.devices[0]!.scenarios[0]!.checks[3]!.reason).toBe('loading model.tflite reset the board');
    const placement = r.devices[0]!.scenarios[0]!.checks[2]!;
    expect(placement.reason).toBe('model.tflite: data at image offset 482 sits at address 0x081e01e2, which is 2 mod 16: not 16-byte aligned as profile openmv-h7 requires for models');
    expect(r.exitCode).toBe(1);
  });

  it('runs a bench of several simulated boards in parallel; one unreachable board does not stop the others', async () => {
    const bench = join(tmp, 'bench.yaml');
    writeFileSync(bench, `devices:
  sim-a: { profile: openmv-h7, connection: sim }
  sim-b: { profile: openmv-h7, connection: sim }
  sim-c: { profile: openmv-rt1062, connection: sim }
  gone: { profile: openmv-h7, connection: "socket://127.0.0.1:9", readyTimeoutMs: 2000 }
`);
    const r = await runScenarios({ scenarios: [modelLoad], bench, cwd: root, lockDir, openAttempts: 1 });
    expect(r.devices.map((x) => x.device)).toEqual(['sim-a', 'sim-b', 'sim-c', 'gone']);
    for (const i of [0, 1, 2]) expect(statuses(r, i)).toEqual({ listing: 'passed', imports: 'passed', 'models.placement': 'passed', 'models.inference': 'simulated' });
    expect(r.devices[3]!.error?.exitCode).toBe(3);
    expect(r.exitCode).toBe(3);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => n === 'testsuite' || n === 'testcase' }).parse(toJUnit(r));
    const suites = doc.testsuites.testsuite as { name: string; tests: string; skipped: string; errors: string; testcase: unknown[] }[];
    expect(suites.map((s) => [s.name, s.tests, s.skipped, s.errors])).toEqual([
      ['sim-a', '4', '1', '0'], ['sim-b', '4', '1', '0'], ['sim-c', '4', '1', '0'], ['gone', '1', '0', '1'],
    ]);
    expect(suites.reduce((n, s) => n + s.testcase.length, 0)).toBe(r.counts.total + 1);
  });

  it('starts a simulated board when nothing is configured, and says so', async () => {
    const notes: string[] = [];
    const r = await runScenarios({ scenarios: [modelLoad], cwd: tmp, lockDir, onNote: (n) => notes.push(n) });
    expect(notes).toEqual(['no --device, no --bench and no devices/bench.yaml: started a simulated openmv-h7 board for this run (model inference is simulated, not run)']);
    expect(r.devices[0]!.simulated).toBe(true);
    expect(r.exitCode).toBe(0);
  });

  it('skips flashing when the board already holds the image', async () => {
    // One board, two scenario runs: the second finds the image by hash and writes nothing.
    const r = await runScenarios({ scenarios: [modelLoad, modelLoad], device: 'sim:openmv-h7', cwd: root, lockDir });
    expect(r.devices[0]!.scenarios.map((s) => s.flash?.written)).toEqual([true, false]);
    expect(r.exitCode).toBe(0);
  });
});

