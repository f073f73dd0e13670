/**
 * Device health from the command line, with the states in a real history store (SQLite file):
 * a bad device is not run by `hil run --bench` (exit 6, reason and since when, never a pass),
 * `hil device health NAME` returns a passing board to ok, `hil device list` shows the states,
 * and a bench file's `power:` key is checked (exit 2, one line).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { captureOutput } from '../../test/helpers/captureOutput.js';
import { main } from '../cli/main.js';
import { openHistory } from '../history/index.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const tmp = mkdtempSync(join(tmpdir(), 'hil-device-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const savedLocks = process.env.HIL_LOCK_DIR;
process.env.HIL_LOCK_DIR = join(tmp, 'locks');
afterAll(() => {
  if (savedLocks === undefined) delete process.env.HIL_LOCK_DIR;
  else process.env.HIL_LOCK_DIR = savedLocks;
});

const io = captureOutput();

function benchFile(body: string): string {
  const f = join(tmp, `bench-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(f, body);
  return f;
}

async function seed(history: string, device: string, state: 'ok' | 'suspect' | 'bad', reason: string | null, since: string, consecutiveFailures: number): Promise<void> {
  const h = await openHistory(history);
  try {
    await h.setDeviceState(device, { state, reason, since, consecutiveFailures });
  } finally {
    await h.close();
  }
}

async function stateOf(history: string, device: string) {
  const h = await openHistory(history);
  try {
    return await h.getDeviceState(device);
  } finally {
    await h.close();
  }
}

// `dead` points at a port nothing listens on: run, it would be an infrastructure error (exit 3).
const BENCH = `devices:\n  good: { profile: openmv-h7, connection: sim }\n  dead: { profile: openmv-h7, connection: "socket://127.0.0.1:1", readyTimeoutMs: 1000 }\n`;
const SINCE = '2026-11-30T02:00:00.000Z';

describe('hil run --bench with a bad device', () => {
  it('does not run it: reported with reason and since when, exit 6; the others run', async () => {
    const history = join(tmp, 'h1.sqlite');
    await seed(history, 'dead', 'bad', 'not recovered 3 times in a row', SINCE, 3);
    const f = benchFile(BENCH);
    const json = join(tmp, 'run1.json');
    expect(await main(['run', join(root, 'scenarios/health'), '--bench', f, '--history', history, '--json', json])).toBe(6);
    expect(io.stdout).toContain(`ERROR device dead is bad since ${SINCE} (not recovered 3 times in a row): not run; \`hil device health dead\` returns it to ok when it passes`);
    expect(io.stdout).toMatch(/\(exit 6\)\n$/);
    const run = JSON.parse(readFileSync(json, 'utf8')) as { devices: { device: string; scenarios: unknown[]; error?: { exitCode: number }; health?: { notScheduled?: boolean } }[] };
    const dead = run.devices.find((d) => d.device === 'dead')!;
    expect(dead.scenarios).toEqual([]);
    expect(dead.error?.exitCode).toBe(6);
    expect(dead.health?.notScheduled).toBe(true);
    expect(run.devices.find((d) => d.device === 'good')!.scenarios).toHaveLength(1);
    // Not touched: no recovery was tried, the state is as it was.
    expect(io.stderr).not.toMatch(/dead: recovery/);
    expect(await stateOf(history, 'dead')).toMatchObject({ state: 'bad', since: SINCE, consecutiveFailures: 3 });
  });

  it('runs and recovers devices that are not bad; after --bad-after failed recoveries the device is bad', async () => {
    const history = join(tmp, 'h2.sqlite');
    const f = benchFile(BENCH.replace(/  good:.*\n/, ''));
    expect(await main(['run', join(root, 'scenarios/health'), '--bench', f, '--history', history, '--bad-after', '2'])).toBe(3);
    expect(io.stderr).toMatch(/dead: recovery: soft-reset failed: .*connection refused/);
    expect(io.stderr).toMatch(/dead: recovery: power-cycle skipped: no power: in the bench file for dead/);
    expect(await stateOf(history, 'dead')).toMatchObject({ state: 'suspect', consecutiveFailures: 1 });
    expect(await main(['run', join(root, 'scenarios/health'), '--bench', f, '--history', history, '--bad-after', '2'])).toBe(3);
    expect(await stateOf(history, 'dead')).toMatchObject({ state: 'bad', consecutiveFailures: 2 });
    io.stdout = '';
    expect(await main(['run', join(root, 'scenarios/health'), '--bench', f, '--history', history])).toBe(6);
    expect(io.stdout).toMatch(/ERROR device dead is bad since 20.*not recovered 2 times in a row/);
  });

  it('--no-history: states are not read or kept, and it says so', async () => {
    const f = benchFile(BENCH.replace(/  good:.*\n/, ''));
    expect(await main(['run', join(root, 'scenarios/health'), '--bench', f, '--no-history'])).toBe(3);
    expect(io.stderr).toContain('hil: --no-history: device states are not read or kept (no device is skipped as bad)\n');
  });

  it('refuses --bad-after 0', async () => {
    expect(await main(['run', join(root, 'scenarios/health'), '--bench', benchFile(BENCH), '--bad-after', '0'])).toBe(2);
    expect(io.stderr).toBe('hil: --bad-after must be a whole number of failures >= 1 (got 0)\n');
  });

  it('refuses --bad-after without --bench', async () => {
    expect(await main(['run', join(root, 'scenarios/health'), '--device', 'sim', '--bad-after', '2'])).toBe(2);
    expect(io.stderr).toBe('hil: --bad-after applies to --bench runs (bench devices have health states)\n');
  });
});

describe('hil device health / list', () => {
  it('a passing health scenario returns a bad device to ok; list shows it', async () => {
    const history = join(tmp, 'h3.sqlite');
    await seed(history, 'good', 'bad', 'not recovered 3 times in a row', SINCE, 3);
    const f = benchFile(BENCH);
    expect(await main(['device', 'list', '--bench', f, '--history', history])).toBe(0);
    expect(io.stdout).toMatch(new RegExp(`\\n  good +bad +since ${SINCE}: not recovered 3 times in a row\\n`));
    expect(io.stdout).toMatch(/\n  dead +ok +\(no record\)\n/);
    io.stdout = '';
    expect(await main(['device', 'health', 'good', '--bench', f, '--history', history])).toBe(0);
    expect(io.stdout).toMatch(/PASS listing/);
    expect(io.stdout).toMatch(/PASS imports/);
    expect(io.stdout).toMatch(/PASS models\.placement/);
    expect(io.stdout).toContain(`good: ok (was bad since ${SINCE})\n`);
    expect(await stateOf(history, 'good')).toMatchObject({ state: 'ok', reason: null, consecutiveFailures: 0 });
    io.stdout = '';
    expect(await main(['device', 'list', '--bench', f, '--history', history, '--json'])).toBe(0);
    const listed = JSON.parse(io.stdout) as { statesKept: boolean; devices: { device: string; state: string; recorded: boolean }[] };
    expect(listed.statesKept).toBe(true);
    expect(listed.devices.map((d) => [d.device, d.state, d.recorded])).toEqual([['good', 'ok', true], ['dead', 'ok', false]]);
  });

  it('a failing health scenario keeps the device from ok (exit 3 for an unreachable board)', async () => {
    const history = join(tmp, 'h4.sqlite');
    await seed(history, 'dead', 'bad', 'x', SINCE, 3);
    expect(await main(['device', 'health', 'dead', '--bench', benchFile(BENCH), '--history', history])).toBe(3);
    expect(await stateOf(history, 'dead')).toMatchObject({ state: 'bad', since: SINCE, consecutiveFailures: 4 });
    expect(io.stdout).toMatch(/dead: bad: health scenario failed: .*connection refused/);
  });

  it('a health run is recorded in the history as a run of kind health (hil history shows it)', async () => {
    const history = join(tmp, 'h6.sqlite');
    const f = benchFile(BENCH);
    expect(await main(['device', 'health', 'good', '--bench', f, '--history', history])).toBe(0);
    io.stdout = '';
    expect(await main(['history', '--history', history])).toBe(0);
    expect(io.stdout).toMatch(/^run 1  \(hil device health\)  .*exit 0/);
    expect(io.stdout).toMatch(/\n  good  health  \(openmv-h7/);
    io.stdout = '';
    expect(await main(['history', '--history', history, '--json'])).toBe(0);
    const listed = JSON.parse(io.stdout) as { runs: { kind: string; devices: string[]; scenarios: string[]; results: { check: string; status: string }[] }[] };
    expect(listed.runs.map((r) => [r.kind, r.devices, r.scenarios])).toEqual([['health', ['good'], ['health']]]);
    expect(listed.runs[0]!.results.map((r) => `${r.check} ${r.status}`)).toEqual(expect.arrayContaining(['listing passed', 'imports passed', 'models.placement passed']));
  });

  it('another board under a bench name gets its own state (reported); the old board keeps its bad', async () => {
    const history = join(tmp, 'h7.sqlite');
    const h = await openHistory(history);
    try {
      await h.setDeviceState('good', { state: 'bad', reason: 'not recovered 3 times in a row', since: SINCE, consecutiveFailures: 3, boardId: 'feedface' });
    } finally {
      await h.close();
    }
    const f = benchFile(BENCH);
    // Before any board answers, the board last seen under the name is presumed there: not run.
    expect(await main(['run', join(root, 'scenarios/health'), '--bench', f, '--history', history])).toBe(3);
    expect(io.stdout).toContain(`ERROR device good is bad since ${SINCE} (not recovered 3 times in a row): not run; \`hil device health good\` returns it to ok when it passes (board feedface, the one last seen there; another board there gets its own state when it answers)`);
    io.stdout = '';
    // The simulated board answering under `good` is another board.
    expect(await main(['device', 'health', 'good', '--bench', f, '--history', history])).toBe(0);
    expect(io.stdout).toMatch(new RegExp(`\\ngood: another board \\(unique id [0-9a-f]+\\) than the one last seen under good \\(feedface, bad since ${SINCE}\\): its own state, ok; feedface's bad stays with that board\\n`));
    expect(io.stdout).toMatch(/\ngood: ok\n$/);
    const now = await stateOf(history, 'good');
    expect(now).toMatchObject({ state: 'ok', consecutiveFailures: 0, boardId: expect.stringMatching(/^[0-9a-f]+$/) });
    expect(now!.boardId).not.toBe('feedface');
    const h2 = await openHistory(history);
    try {
      expect(await h2.getBoardState('feedface')).toMatchObject({ device: 'good', state: 'bad', since: SINCE, consecutiveFailures: 3 });
    } finally {
      await h2.close();
    }
    io.stdout = '';
    expect(await main(['device', 'list', '--bench', f, '--history', history])).toBe(0);
    expect(io.stdout).toMatch(new RegExp(`\\n  good +ok +since \\S+ \\(board ${now!.boardId}\\)\\n`));
  });

  it('names the bench devices when NAME is not one of them (exit 2)', async () => {
    expect(await main(['device', 'health', 'cam9', '--bench', benchFile(BENCH), '--no-history'])).toBe(2);
    expect(io.stderr).toMatch(/^hil: device cam9 is not in .*bench-.*\.yaml \(devices: good, dead\)\n$/);
  });
});

describe('the power: key of a bench file', () => {
  const dev = (power: string) => benchFile(`devices:\n  cam1:\n    profile: openmv-h7\n    connection: /dev/ttyACM9\n    power: ${power}\n`);
  it.each([
    ['{ uhubctl: { location: "1-1", port: 2, colour: red } }', "field 'devices.cam1.power.uhubctl.colour' is not a known field (known: location, port, delay)"],
    ['{ usbrelay: { id: 3 } }', "field 'devices.cam1.power.usbrelay' is not a known field (known: uhubctl)"],
    ['{ uhubctl: { location: "1-1", port: 15 } }', "field 'devices.cam1.power.uhubctl.port' must be a hub port number from 1 to 14 (got 15)"],
    ['{ uhubctl: { location: "usb1", port: 2 } }', 'field \'devices.cam1.power.uhubctl.location\' must be a hub location as uhubctl prints it, e.g. "1-1" or "2-1.4" (got "usb1")'],
    ['{ uhubctl: { port: 2 } }', "field 'devices.cam1.power.uhubctl.location' must be a hub location as uhubctl prints it, e.g. \"1-1\" or \"2-1.4\" (got undefined)"],
    ['{ uhubctl: { location: "1-1", port: 2, delay: 0 } }', "field 'devices.cam1.power.uhubctl.delay' must be a number of seconds above 0 and at most 60 (got 0)"],
    ['uhubctl', "field 'devices.cam1.power' must be a mapping such as { uhubctl: { location: \"1-1\", port: 2 } }"],
  ])('power: %s is refused with one line, exit 2', async (power, why) => {
    const f = dev(power);
    expect(await main(['device', 'list', '--bench', f, '--no-history'])).toBe(2);
    expect(io.stderr).toBe(`hil: ${f}: ${why}\n`);
    io.stderr = '';
    expect(await main(['run', join(root, 'scenarios/health'), '--bench', f])).toBe(2);
    expect(io.stderr).toBe(`hil: ${f}: ${why}\n`);
  });

  it('a valid one is listed with the device', async () => {
    const f = dev('{ uhubctl: { location: "2-1.4", port: 3, delay: 5 } }');
    expect(await main(['device', 'list', '--bench', f, '--history', join(tmp, 'h5.sqlite'), '--json'])).toBe(0);
    expect((JSON.parse(io.stdout) as { devices: { power: unknown }[] }).devices[0]!.power).toEqual({ uhubctl: { location: '2-1.4', port: 3, delay: 5 } });
  });
});
