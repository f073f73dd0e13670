/**
 * Example: drive boards from your own Jest tests with hil's library API (what `hil run` does).
 * Copy this file into your project, import from 'hil' instead of '../harness/index.js', and point
 * `device` at your board ('/dev/ttyACM0' with a profile, a name from devices/bench.yaml, or a bench
 * file with `bench:`). Here it runs on hil's simulated OpenMV cam, so the model inference is
 * reported SIMULATED (placement and format checked, the network not run), never passed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runScenarios, runScenario, loadScenario, openDevice, toJUnit, type RunResult, type CheckResult } from '../harness/index.js';

const here = new URL('.', import.meta.url).pathname;

const out = mkdtempSync(join(tmpdir(), 'hil-example-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The checks of the first scenario on the first device, by name. */
function checksOf(run: RunResult): Record<string, CheckResult> {
  return Object.fromEntries(run.devices[0]!.scenarios[0]!.checks.map((c) => [c.name, c]));
}

describe('my product image on a (simulated) OpenMV cam', () => {
  let run: RunResult;

  it('builds images/demo, flashes it when needed and runs the model-load checks', async () => {
    const scenario = loadScenario(join(here, 'model-load'));
    run = await runScenarios({ scenarios: [scenario], device: 'sim:openmv-h7', outDir: out, lockDir: join(out, 'locks') });
    expect(run.devices[0]!.error).toBeUndefined();
    expect(run.exitCode).toBe(0);
  });

  it('sees every file of the image under /rom, hashed on the board', () => {
    const listing = checksOf(run).listing!;
    expect(listing.status).toBe('passed');
  });

  it('imports the application from /rom and its entry point answers', () => {
    const imports = checksOf(run).imports!;
    expect(imports.status).toBe('passed');
    expect(imports.details).toContain('app.run(): returned 0.6');
  });

  it('places the model where the NPU can use it in place; inference is simulated here, not passed', () => {
    const c = checksOf(run);
    expect(c['models.placement']!.status).toBe('passed');
    expect(c['models.inference']!.status).toBe('simulated');
  });

  it('produces a JUnit report for CI', () => {
    expect(toJUnit(run)).toContain('<skipped message="simulated: ');
  });
});

describe('driving one board yourself: open, exec, run a scenario, read the results', () => {
  it('opens a simulated board, runs code on it and runs model-load on the same board', async () => {
    const device = await openDevice({ connection: 'sim:openmv-h7', profile: 'openmv-h7', name: 'my-cam' });
    try {
      expect((await device.exec('print(6 * 7)')).trim()).toBe('42');
      const result = await runScenario(device, join(here, 'model-load'), { simulatedBoard: true });
      expect(result.error).toBeUndefined();
      expect(result.checks.filter((c) => c.status === 'failed')).toEqual([]);
      // After the scenario the image is on the board: your own checks can use it.
      expect(await device.evalJson("__import__('app').run()")).toBe(0.6);
    } finally {
      await device.close();
    }
  });
});
