/**
 * Sealed answers and run-at-most-once on the simulated board (real MicroPython in wasm, ROMFS at
 * /rom), reached through hil's fault-injecting link: the cases in runOnce.cases.ts, then
 * `hil run` (flash and scenario checks) of a product whose files are named with the old answer
 * marker and whose modules print fake answer frames.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDevice } from './index.js';
import type { Device } from './types.js';
import { startSim, type SimBoard } from '../sim/index.js';
import { FaultProxy } from '../fault/faultProxy.js';
import { caseFiles, caseImage, runOnceCases } from './runOnce.cases.js';
import { runScenarios } from '../bench/runScenarios.js';

const root = resolve(new URL('../..', import.meta.url).pathname);

describe('sealed answers and code run once, on the simulated board through the fault proxy', () => {
  let board: SimBoard;
  let proxy: FaultProxy;
  let device: Device;
  beforeAll(async () => {
    board = await startSim({ profile: 'openmv-h7', link: 'tcp', image: caseImage() });
    proxy = await FaultProxy.start({ upstream: board.connection, seed: 7 });
    device = await openDevice({ connection: proxy.connection, profile: 'openmv-h7', name: 'simcam' });
  });
  afterAll(async () => {
    await device?.close();
    await proxy?.close();
    await board?.stop();
  });
  runOnceCases({ device: () => device, proxy: () => proxy });
});

describe('hil run of a product whose files hold the old marker and whose modules print fake frames', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hil-sealed-sim-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('flashes it and passes listing and imports (exit 0)', async () => {
    const src = join(tmp, 'src');
    mkdirSync(src, { recursive: true });
    for (const f of caseFiles()) if (!f.name.startsWith('app_')) writeFileSync(join(src, f.name), f.data);
    const scen = join(tmp, 'scen');
    mkdirSync(scen);
    writeFileSync(join(scen, 'scenario.yaml'), `name: marker-names\nimage:\n  source: ../src\nflash: auto\nchecks:\n  - listing\n  - imports\n`);
    const r = await runScenarios({ scenarios: [scen], device: 'sim:openmv-h7', cwd: root, lockDir: join(tmp, 'locks') });
    const dev = r.devices[0]!;
    expect(dev.error).toBeUndefined();
    expect(dev.scenarios[0]!.error).toBeUndefined();
    expect(dev.scenarios[0]!.flash?.written).toBe(true);
    expect(Object.fromEntries(dev.scenarios[0]!.checks.map((c) => [c.name, c.status]))).toEqual({ listing: 'passed', imports: 'passed' });
    expect(r.exitCode).toBe(0);
  }, 120_000);
});
