/**
 * A cam that a model crashes is brought back through the bench's power switch (`power:`, uhubctl)
 * and the run goes on. `uhubctl` here is the labelled TEST DOUBLE test/doubles/uhubctl (first on
 * PATH), switching a port of a simulated hub (test/doubles/usbHub.ts) with hil's simulated H7
 * plugged in, reached over socket:// as a real board is (hil holds no power of its own there).
 * The simulated firmware runs with pyb.fault_debug(True), so a HardFault prints the stm32 dump and
 * the board stops (micropython ports/stm32/stm32_it.c); the model that does it is the demo's
 * per-channel quantized network placed at 2 mod 4 (harness/board/sim/ml.py).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runScenarios } from './runScenarios.js';
import { parseRomfs } from '../romfs/parse.js';
import type { CheckResult, RunResult } from '../scenario/result.js';
import { file, romfsImage, scenarioWithImage } from '../../test/scenario/verdictCases.js';
import { poweredSimBoard, SimulatedHub, type PoweredSim } from '../../test/doubles/usbHub.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const doubles = join(root, 'test/doubles');
const saved = { PATH: process.env.PATH, HUBS: process.env.HIL_UHUBCTL_DOUBLE_HUBS, LOG: process.env.HIL_UHUBCTL_DOUBLE_LOG };
const tmp = mkdtempSync(join(tmpdir(), 'hil-bench-power-'));
const uhubctlLog = join(tmp, 'uhubctl.log');
let hub: SimulatedHub;
let board: PoweredSim;

const model = (n: string) => new Uint8Array(readFileSync(join(root, 'test/fixtures/models', n)));

/** a.tflite (per-channel convolutions) at 2 mod 4, then b.tflite (no convolutions: runs anywhere). */
function crashingImage(): Uint8Array {
  for (let pad = 0; pad < 16; pad++) {
    const img = romfsImage([file('pad.txt', 'x'.repeat(pad)), file('a.tflite', model('fomo_face_detection.tflite')), file('b.tflite', model('force_int_quant.tflite'))]);
    const a = parseRomfs(img).entries.find((e) => e.path === 'a.tflite');
    if (a && a.type === 'file' && a.offset % 4 === 2) return img;
  }
  throw new Error('no padding puts a.tflite at 2 mod 4');
}

function restoreEnv(k: string, v: string | undefined): void {
  if (v === undefined) delete process.env[k];
  else process.env[k] = v;
}

beforeAll(async () => {
  hub = await SimulatedHub.start(join(tmp, 'hub'), '1-1', 4);
  board = await poweredSimBoard({ profile: 'openmv-h7', dir: tmp, firmware: { faultDebug: true } });
  hub.plug(2, board);
  process.env.PATH = `${doubles}:${saved.PATH}`;
  process.env.HIL_UHUBCTL_DOUBLE_HUBS = hub.hubsFile;
  process.env.HIL_UHUBCTL_DOUBLE_LOG = uhubctlLog;
}, 60_000);
afterAll(async () => {
  restoreEnv('PATH', saved.PATH);
  restoreEnv('HIL_UHUBCTL_DOUBLE_HUBS', saved.HUBS);
  restoreEnv('HIL_UHUBCTL_DOUBLE_LOG', saved.LOG);
  await board?.stop();
  await hub?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function benchFile(power: string): string {
  const f = join(tmp, `bench-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(f, `devices:\n  cam1:\n    profile: openmv-h7\n    connection: ${board.connection}\n    readyTimeoutMs: 4000\n    timeoutMs: 5000\n${power}`);
  return f;
}

const scenario = (r: RunResult, i: number) => r.devices[0]!.scenarios[i]!;
const check = (r: RunResult, i: number, name: string): CheckResult => scenario(r, i).checks.find((c) => c.name === name)!;
type Models = { models: { path: string; crashed?: { console: string[] }; values?: number[][]; skipped?: string }[] };

describe('a crashed cam on a bench with power: is power-cycled and the run goes on', () => {
  const crash = scenarioWithImage(join(tmp, 'crash'), crashingImage(), ['models']);
  const after = scenarioWithImage(join(tmp, 'after'), crashingImage(), ['listing']);

  it('the crash is FAIL with the console; uhubctl cycles the port; the next model and the next scenario run', async () => {
    const bench = benchFile('    power: { uhubctl: { location: "1-1", port: 2, delay: 0.2 } }\n');
    const simBefore = board.sim;
    const r = await runScenarios({ scenarios: [crash, after], bench, cwd: root, lockDir: join(tmp, 'locks') });
    expect(scenario(r, 0).error).toBeUndefined();
    const inf = check(r, 0, 'models.inference');
    expect([inf.status, inf.failureClass, inf.reason]).toEqual(['failed', 'product', 'loading a.tflite crashed the board: HardFault']);
    expect(inf.details).toEqual(expect.arrayContaining(['loading a.tflite crashed the board: HardFault; console:', '  HardFault', '  board recovered: power-cycled']));
    const [a, b] = (inf.data as Models).models;
    expect(a!.crashed!.console[0]).toBe('HardFault');
    // after the power cycle: the other model ran (the simulated board's outputs), the next scenario passed
    expect(b!.values?.[0]?.length).toBe(1);
    expect(b!.skipped).toBeUndefined();
    expect(scenario(r, 1).checks.map((c) => [c.name, c.status])).toEqual([['listing', 'passed']]);
    // the port really went off and on, through uhubctl's own argument form, and the board was powered on anew
    expect(hub.switches).toEqual([{ port: 2, on: false }, { port: 2, on: true }]);
    const calls = readFileSync(uhubctlLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; exit: number });
    expect(calls).toEqual([{ argv: ['-l', '1-1', '-p', '2', '-a', 'cycle', '-d', '0.2'], exit: 0 }]);
    expect(board.sim).not.toBe(simBefore);
  }, 120_000);

  it('another board answering after the power cycle: an error naming both unique ids, the run on that port stops, nothing written to it', async () => {
    const bench = benchFile('    power: { uhubctl: { location: "1-1", port: 2, delay: 0.2 } }\n');
    const other = scenarioWithImage(join(tmp, 'other'), romfsImage([file('other.txt', 'another image: flashing it would write')]), ['listing']);
    const before = board.sim;
    const seen = createHash('sha256').update('openmv-h7').digest('hex').slice(0, 24); // the simulated H7's unique id
    const swapped = 'b0a4d5a9ed0000000000ffee';
    board.swap(swapped);
    const r = await runScenarios({ scenarios: [crash, other], bench, cwd: root, lockDir: join(tmp, 'locks') });
    expect(board.sim).not.toBe(before); // the port was power-cycled: the other board is the one there now
    const inf = check(r, 0, 'models.inference');
    const why = `cam1: a different board answered (unique id ${swapped}, the run saw ${seen})`;
    expect([inf.status, inf.failureClass, inf.reason]).toEqual(['error', 'board', why]);
    // the crash itself is in the details, the board is not recovered, no model after it was tried
    expect(inf.details).toEqual(expect.arrayContaining(['loading a.tflite crashed the board: HardFault', `  board not recovered: ${why}`]));
    expect((inf.data as Models).models[1]!.skipped).toMatch(/^not attempted: the board did not come back after a\.tflite crashed it/);
    // the scenario's other checks are not run, no second attempt is made, the next scenario is not run
    expect(r.devices[0]!.scenarios.map((s) => [s.scenario, s.attempts])).toEqual([['crash', undefined]]);
    expect(r.devices[0]!.error?.message).toBe(`${why}; the run on cam1 stops, nothing more is written to it`);
    expect(r.devices[0]!.error?.failureClass).toBe('board');
    // the other board's flash is as it was plugged in: blank
    const flash = readFileSync(board.flashFile);
    expect(flash.length).toBeGreaterThan(0);
    expect(flash.every((b) => b === 0xff)).toBe(true);
  }, 120_000);

  it('without power: as before: FAIL, "not recovered", the models after it not attempted, the hub untouched', async () => {
    const switches = hub.switches.length;
    try {
      const r = await runScenarios({ scenarios: [crash], bench: benchFile(''), cwd: root, lockDir: join(tmp, 'locks') });
      const inf = check(r, 0, 'models.inference');
      expect([inf.status, inf.reason]).toEqual(['failed', 'loading a.tflite crashed the board: HardFault']);
      expect(inf.details).toContain('  board not recovered: hil cannot power-cycle this board: it is reached again by the next operation if it reset itself, else power-cycle it');
      const [, b] = (inf.data as Models).models;
      expect(b!.skipped).toMatch(/^not attempted: the board did not come back after a\.tflite crashed it/);
      expect(hub.switches.length).toBe(switches);
    } finally {
      // leave the board working
      await hub.setPower(2, false);
      await hub.setPower(2, true);
    }
  }, 120_000);
});
