/**
 * The power step for real, minus the hub: `uhubctl` here is the labelled TEST DOUBLE
 * test/doubles/uhubctl (first on PATH), switching a port of a simulated hub (test/doubles/usbHub.ts)
 * with hil's simulated board plugged in. The board is wedged (nothing reaches its interpreter),
 * so soft reset and machine.reset() cannot get past it; the power cycle drops the board's link and
 * brings it back, and the ladder proves it answers as the same board. Also: what the real uhubctl
 * says with no hub here, as the power step reports it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readBenchFile } from '../bench/inventory.js';
import { openTarget } from '../bench/openTarget.js';
import { Scope } from '../lifecycle/scope.js';
import type { DeviceRunResult } from '../scenario/result.js';
import { settleHealth } from './benchHealth.js';
import { MemoryStateStore } from './state.js';
import { switchPower } from '../power/uhubctl.js';
import { poweredSimBoard, SimulatedHub, type PoweredSim } from '../../test/doubles/usbHub.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const doubles = join(root, 'test/doubles');
const savedPath = process.env.PATH;
const savedHubs = process.env.HIL_UHUBCTL_DOUBLE_HUBS;
const savedLog = process.env.HIL_UHUBCTL_DOUBLE_LOG;
const tmp = mkdtempSync(join(tmpdir(), 'hil-health-power-'));
let hub: SimulatedHub;
let board: PoweredSim;

beforeAll(async () => {
  hub = await SimulatedHub.start(join(tmp, 'hub'), '1-1', 4);
  board = await poweredSimBoard({ profile: 'openmv-h7', dir: tmp });
  hub.plug(2, board);
  process.env.PATH = `${doubles}:${savedPath}`;
  process.env.HIL_UHUBCTL_DOUBLE_HUBS = hub.hubsFile;
  process.env.HIL_UHUBCTL_DOUBLE_LOG = join(tmp, 'uhubctl.log');
});
afterAll(async () => {
  process.env.PATH = savedPath;
  if (savedHubs === undefined) delete process.env.HIL_UHUBCTL_DOUBLE_HUBS;
  else process.env.HIL_UHUBCTL_DOUBLE_HUBS = savedHubs;
  if (savedLog === undefined) delete process.env.HIL_UHUBCTL_DOUBLE_LOG;
  else process.env.HIL_UHUBCTL_DOUBLE_LOG = savedLog;
  await board?.stop();
  await hub?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function bench(power: string): string {
  const f = join(tmp, `bench-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(f, `devices:\n  cam1:\n    profile: openmv-h7\n    connection: ${board.connection}\n    readyTimeoutMs: 4000\n    timeoutMs: 3000\n${power}`);
  return f;
}

async function answers(conn: ReturnType<typeof readBenchFile>['targets'][0]): Promise<string> {
  const scope = new Scope();
  try {
    const d = await openTarget(conn, { scope });
    return (await d.exec('print(6 * 7)', { timeoutMs: 3000 })).trim();
  } finally {
    await scope.release();
  }
}

const infraRun = (identity?: DeviceRunResult['identity']): DeviceRunResult => ({
  device: 'cam1', connection: board.connection, profile: 'openmv-h7', simulated: false, durationMs: 1, scenarios: [], identity,
  error: { message: 'cam1: board not ready within 1500 ms', exitCode: 3, phase: 'connect' },
});

describe('power cycle through uhubctl (test double) and a simulated hub', () => {
  it('the double is the one on PATH and says what it is in its first line', () => {
    const which = spawnSync('sh', ['-c', 'command -v uhubctl'], { encoding: 'utf8', env: process.env }).stdout.trim();
    expect(which).toBe(join(doubles, 'uhubctl'));
    expect(readFileSync(which, 'utf8').split('\n')[0]).toMatch(/TEST DOUBLE of uhubctl/);
  });

  it('a wedged board: soft reset and machine.reset() fail, the power cycle brings back the same board', async () => {
    const [t] = readBenchFile(bench('    power: { uhubctl: { location: "1-1", port: 2, delay: 0.2 } }\n')).targets;
    expect(t!.power).toEqual({ uhubctl: { location: '1-1', port: 2, delay: 0.2 } });
    expect(await answers(t!)).toBe('42');
    // The identity the run saw, for the ladder to hold the board to.
    const scope = new Scope();
    const identity = (await openTarget(t!, { scope })).identity;
    await scope.release();
    expect(identity?.uniqueId).toMatch(/^[0-9a-f]+$/);

    board.hang();
    await expect(answers(t!)).rejects.toThrow(/not ready|timed out|did not/i);
    const simBefore = board.sim;

    const store = new MemoryStateStore();
    const devices = [infraRun(identity)];
    const notes: string[] = [];
    await settleHealth([t!], devices, new Scope(), { store, lockDir: join(tmp, 'locks'), onNote: (n) => notes.push(n), recover: { resetTimeoutMs: 3000, powerReturnMs: 20000 } });
    const rec = devices[0]!.health!.recovery!;
    expect(rec.steps.map((s) => [s.step, s.outcome])).toEqual([['soft-reset', 'failed'], ['hard-reset', 'failed'], ['power-cycle', 'recovered']]);
    expect(rec.steps[1]!.detail).toMatch(/^cannot reach the board to send machine\.reset\(\)/);
    expect(rec.recovered).toBe(true);
    // The port really went off and on again, through uhubctl's own argument form.
    expect(hub.switches).toEqual([{ port: 2, on: false }, { port: 2, on: true }]);
    const calls = readFileSync(join(tmp, 'uhubctl.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { argv: string[]; exit: number });
    expect(calls).toEqual([{ argv: ['-l', '1-1', '-p', '2', '-a', 'cycle', '-d', '0.2'], exit: 0 }]);
    expect(board.sim).not.toBe(simBefore); // a new power-on, not the old board released
    expect(await answers(t!)).toBe('42');
    expect(devices[0]!.health).toMatchObject({ state: 'suspect', failures: 0 });
    expect(devices[0]!.health!.reason).toMatch(/recovered by power-cycle$/);
    expect(notes.join('\n')).toMatch(/cam1: health suspect/);
  });

  it('without power: in the bench file the wedged board is not recovered (the power step is skipped, saying why)', async () => {
    const [t] = readBenchFile(bench('')).targets;
    board.hang();
    const store = new MemoryStateStore();
    const devices = [infraRun()];
    const switches = hub.switches.length;
    await settleHealth([t!], devices, new Scope(), { store, lockDir: join(tmp, 'locks'), recover: { resetTimeoutMs: 3000 } });
    expect(devices[0]!.health!.recovery!.steps.map((s) => [s.step, s.outcome])).toEqual([['soft-reset', 'failed'], ['hard-reset', 'failed'], ['power-cycle', 'skipped']]);
    expect(devices[0]!.health!.recovery!.steps[2]!.detail).toBe('no power: in the bench file for cam1');
    expect(devices[0]!.health).toMatchObject({ state: 'suspect', failures: 1 });
    expect(hub.switches.length).toBe(switches);
    // Leave the board working for the next test.
    await hub.setPower(2, false);
    await hub.setPower(2, true);
  });

  it('the double refuses what the real uhubctl refuses, with its words and exit 1', () => {
    for (const args of [['-x'], ['-l'], ['--bogus'], ['-l', '1-1', 'extra'], ['-p', '3-2'], ['-p', '15']]) {
      const r = spawnSync(join(doubles, 'uhubctl'), args, { encoding: 'utf8', env: process.env });
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      if (existsSync('/usr/sbin/uhubctl')) {
        // Called by name, as hil calls it (getopt's messages start with argv[0]).
        const real = spawnSync('uhubctl', args, { encoding: 'utf8', env: { ...process.env, PATH: '/usr/sbin:/usr/bin:/bin' } });
        expect([r.status, r.stderr]).toEqual([real.status, real.stderr]);
      }
    }
  });
});

describe('the real uhubctl, with no hub here', () => {
  const real = ['/usr/sbin/uhubctl', '/usr/bin/uhubctl'].find((p) => existsSync(p));
  (real ? it : it.skip)(`is a clear infrastructure error naming the command and what it said${real ? '' : ' (skipped: uhubctl is not installed)'}`, async () => {
    const err = await switchPower({ uhubctl: { location: '1-1', port: 2 } }, 'cycle', { command: real }).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 3, phase: 'power-cycle' });
    expect((err as Error).message).toBe(`${real} -l 1-1 -p 2 -a cycle -d 2: No compatible devices detected at location 1-1! (exit 1)`);
  });

  it('a missing uhubctl names the package', async () => {
    const err = await switchPower({ uhubctl: { location: '1-1', port: 2 } }, 'cycle', { command: join(tmp, 'no-uhubctl-here') }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no-uhubctl-here not found on PATH: cannot power-cycle the board \(Debian: apt-get install uhubctl\)$/);
  });
});
