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
import { openDevice } from '../device/openDevice.js';
import type { Device } from '../device/types.js';
import { loadProfile } from '../profile/profile.js';
import { loadScenario } from './loadScenario.js';
import { resolveImage } from './resolveImage.js';
import { runScenario } from './runScenario.js';
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

describe('the soft reset before the checks', () => {
  /** Soft reboots the board printed on this link. */
  const softReboots = (d: Device) => Buffer.concat(d.transcript.records.filter((r) => r.dir === 'rx').map((r) => r.data)).toString('latin1').split('soft reboot').length - 1;
  const listingOnly = () => {
    const dir = mkdtempSync(join(tmp, 'listing-'));
    writeFileSync(join(dir, 'scenario.yaml'), `name: listing-only\nimage: { source: ${JSON.stringify(join(root, 'images/demo'))} }\nchecks:\n  - listing\n`);
    return loadScenario(dir);
  };
  /** One scenario run on a simulated board booted with `image` in its partition (or none). */
  const onSim = async (image: Uint8Array | undefined, freshBoot: boolean) => {
    const device = await openDevice({ connection: 'sim', profile: 'openmv-h7', image });
    const log: string[] = [];
    try {
      const r = await runScenario(device, listingOnly(), { freshBoot, log: (l) => log.push(l) });
      return { r, log, softReboots: softReboots(device) };
    } finally {
      await device.close();
    }
  };

  it('is skipped on a board booted with the image it holds (freshBoot) when the flash wrote nothing, and after a flash whose proof soft reset the board', async () => {
    const image = (await resolveImage(listingOnly().image, loadProfile('openmv-h7'))).bytes;
    const fresh = await onSim(image, true);
    expect([fresh.r.flash?.written, fresh.r.checks.map((c) => c.status)]).toEqual([false, ['passed']]);
    expect(fresh.softReboots).toBe(0);
    expect(fresh.log.some((l) => l.startsWith('soft reset: not needed (the board booted with this image'))).toBe(true);
    // Not booted by this run (freshBoot false): the same board state is soft reset as always.
    const notFresh = await onSim(image, false);
    expect([notFresh.r.flash?.written, notFresh.softReboots, notFresh.r.checks.map((c) => c.status)]).toEqual([false, 1, ['passed']]);
    // Booted without the image: the flash writes it, soft resets and proves it there; that reset
    // is the one the checks run after (one reboot in all, not two).
    const written = await onSim(undefined, true);
    expect(written.r.flash?.written).toBe(true);
    expect(written.softReboots).toBe(1);
    expect(written.log.some((l) => l.startsWith('soft reset: not needed (the flash soft reset the board after writing'))).toBe(true);
    expect(written.r.checks.map((c) => c.status)).toEqual(['passed']);
  });
});
