/**
 * Device health without boards: the ladder's order and stop rule, the state machine (bad after
 * N, health back to ok), and what a bench run does with the states (settleHealth with steps
 * that record what was tried).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runLadder, type LadderStep, type LadderStepName } from './ladder.js';
import { MemoryStateStore, nextState, stateOfBoardAt, type DeviceState } from './state.js';
import { infraErrorOf, scheduleByHealth, settleHealth } from './benchHealth.js';
import { Scope } from '../lifecycle/scope.js';
import type { BenchTarget } from '../bench/inventory.js';
import { exitCodeFor, type DeviceRunResult } from '../scenario/result.js';

/** Steps that record the order they were tried in; `works` names the ones that bring the board back. */
function recordingSteps(works: LadderStepName[], tried: string[], unavailable: Partial<Record<LadderStepName, string>> = {}): LadderStep[] {
  return (['soft-reset', 'hard-reset', 'power-cycle'] as const).map((name) => ({
    name,
    unavailable: unavailable[name],
    run: async () => {
      tried.push(name);
      if (!works.includes(name)) throw new Error(`${name}: the board did not answer`);
    },
  }));
}

let port = 9;
const target = (name: string): BenchTarget => ({ name, connection: `socket://127.0.0.1:${port++}`, simulated: false, extra: {} });
const lockDir = mkdtempSync(join(tmpdir(), 'hil-health-locks-'));
afterAll(() => rmSync(lockDir, { recursive: true, force: true }));
const infraRun = (device: string): DeviceRunResult => ({
  device, connection: 'socket://127.0.0.1:9', profile: 'openmv-h7', simulated: false, durationMs: 1, scenarios: [],
  error: { message: `${device}: board not ready within 1500 ms`, exitCode: 3, phase: 'connect' },
});
const cleanRun = (device: string): DeviceRunResult => ({
  device, connection: 'socket://127.0.0.1:9', profile: 'openmv-h7', simulated: false, durationMs: 1,
  scenarios: [{ scenario: 's', path: '/s', device, profile: 'openmv-h7', durationMs: 1, checks: [{ name: 'listing', status: 'passed', durationMs: 1, details: [] }] }],
});

describe('recovery ladder', () => {
  it('tries soft reset, then machine.reset(), then the power cycle, in that order, when none works', async () => {
    const tried: string[] = [];
    const r = await runLadder(recordingSteps([], tried));
    expect(tried).toEqual(['soft-reset', 'hard-reset', 'power-cycle']);
    expect(r.recovered).toBe(false);
    expect(r.steps.map((s) => s.outcome)).toEqual(['failed', 'failed', 'failed']);
    expect(r.steps[1]!.detail).toBe('hard-reset: the board did not answer');
  });

  it('stops at the first step that works', async () => {
    for (const [works, expected] of [
      [['soft-reset', 'hard-reset', 'power-cycle'], ['soft-reset']],
      [['hard-reset', 'power-cycle'], ['soft-reset', 'hard-reset']],
      [['power-cycle'], ['soft-reset', 'hard-reset', 'power-cycle']],
    ] as [LadderStepName[], string[]][]) {
      const tried: string[] = [];
      const r = await runLadder(recordingSteps(works, tried));
      expect(tried).toEqual(expected);
      expect(r.recovered).toBe(true);
      expect(r.by).toBe(expected[expected.length - 1]);
      expect(r.steps).toHaveLength(expected.length);
    }
  });

  it('skips a step that is not configured (no power: in the bench file), saying why', async () => {
    const tried: string[] = [];
    const r = await runLadder(recordingSteps(['power-cycle'], tried, { 'power-cycle': 'no power: in the bench file for cam1' }));
    expect(tried).toEqual(['soft-reset', 'hard-reset']);
    expect(r.recovered).toBe(false);
    expect(r.steps[2]).toMatchObject({ step: 'power-cycle', outcome: 'skipped', detail: 'no power: in the bench file for cam1' });
  });
});

describe('device states', () => {
  const at = (min: number) => new Date(Date.UTC(2026, 11, 1, 2, min));
  it('is bad after N consecutive failed recoveries (default 3), since the Nth', () => {
    let s: DeviceState | undefined;
    const states: string[] = [];
    for (let i = 1; i <= 3; i++) {
      s = nextState(s, 'cam1', { kind: 'not-recovered', error: 'board not ready', steps: 'all failed' }, { now: at(i) });
      states.push(s.state);
    }
    expect(states).toEqual(['suspect', 'suspect', 'bad']);
    expect(s).toMatchObject({ state: 'bad', failures: 3, since: at(3).toISOString() });
    expect(s!.reason).toMatch(/^not recovered 3 times in a row \(last: board not ready/);
  });

  it('takes N from the caller', () => {
    let s = nextState(undefined, 'cam1', { kind: 'not-recovered', error: 'e', steps: 'x' }, { badAfter: 1 });
    expect(s.state).toBe('bad');
    s = nextState(undefined, 'cam1', { kind: 'not-recovered', error: 'e', steps: 'x' }, { badAfter: 5 });
    for (let i = 0; i < 3; i++) s = nextState(s, 'cam1', { kind: 'not-recovered', error: 'e', steps: 'x' }, { badAfter: 5 });
    expect(s).toMatchObject({ state: 'suspect', failures: 4 });
  });

  it('a clean run or a recovery ends the series (failures start again), a recovery leaves it suspect', () => {
    let s = nextState(undefined, 'cam1', { kind: 'not-recovered', error: 'e', steps: 'x' });
    s = nextState(s, 'cam1', { kind: 'not-recovered', error: 'e', steps: 'x' });
    s = nextState(s, 'cam1', { kind: 'run-clean' });
    expect(s).toMatchObject({ state: 'suspect', failures: 0 });
    s = nextState(s, 'cam1', { kind: 'not-recovered', error: 'e', steps: 'x' });
    s = nextState(s, 'cam1', { kind: 'recovered', error: 'link closed', by: 'hard-reset' });
    expect(s).toMatchObject({ state: 'suspect', failures: 0, reason: 'infrastructure error (link closed); recovered by hard-reset' });
  });

  it('a passing health scenario returns a bad or suspect device to ok; a failing one counts', () => {
    let s: DeviceState = { device: 'cam1', state: 'bad', since: at(1).toISOString(), reason: 'x', failures: 3, updatedAt: at(1).toISOString() };
    s = nextState(s, 'cam1', { kind: 'health', passed: false, reason: 'listing failed' }, { now: at(2) });
    expect(s).toMatchObject({ state: 'bad', since: at(1).toISOString(), failures: 4 });
    s = nextState(s, 'cam1', { kind: 'health', passed: true }, { now: at(3) });
    expect(s).toEqual({ device: 'cam1', state: 'ok', since: at(3).toISOString(), failures: 0, updatedAt: at(3).toISOString() });
  });
});

describe('bench runs and device states', () => {
  it('an infrastructure error sends the board up the ladder; not recovered 3 runs in a row, it is bad and no longer scheduled', async () => {
    const store = new MemoryStateStore();
    const t = target('cam1');
    const tried: string[] = [];
    for (let night = 1; night <= 3; night++) {
      const { run } = await scheduleByHealth([t], store);
      expect(run.map((x) => x.name)).toEqual(['cam1']);
      const devices = [infraRun('cam1')];
      await settleHealth([t], devices, new Scope(), { store, steps: () => recordingSteps([], tried), lockDir });
      expect(devices[0]!.health).toMatchObject({ state: night < 3 ? 'suspect' : 'bad', failures: night });
      expect(devices[0]!.health!.recovery!.steps.map((s) => s.step)).toEqual(['soft-reset', 'hard-reset', 'power-cycle']);
    }
    expect(tried).toHaveLength(9);
    const { run, notRun } = await scheduleByHealth([t, target('cam2')], store);
    expect(run.map((x) => x.name)).toEqual(['cam2']);
    const r = notRun.get('cam1')!;
    expect(r.scenarios).toEqual([]);
    expect(r.error).toMatchObject({ exitCode: 6, phase: 'health' });
    expect(r.error!.message).toMatch(/^device cam1 is bad since 20\d\d-\d\d-\d\dT.*Z \(not recovered 3 times in a row/);
  });

  it('a device that ran clean is not sent up the ladder', async () => {
    const store = new MemoryStateStore();
    const tried: string[] = [];
    const devices = [cleanRun('cam1')];
    await settleHealth([target('cam1')], devices, new Scope(), { store, lockDir, steps: () => recordingSteps([], tried) });
    expect(tried).toEqual([]);
    expect(devices[0]!.health).toMatchObject({ state: 'ok', failures: 0 });
  });

  it('a check that hit a link fault counts as an infrastructure error; a failed check does not', () => {
    const d = cleanRun('cam1');
    expect(infraErrorOf(d)).toBeUndefined();
    d.scenarios[0]!.checks.push({ name: 'models', status: 'failed', durationMs: 1, details: [], failureClass: 'product' });
    expect(infraErrorOf(d)).toBeUndefined();
    d.scenarios[0]!.checks.push({ name: 'imports', status: 'error', reason: 'link closed', durationMs: 1, details: [], data: { exitCode: 3 } });
    expect(infraErrorOf(d)).toBe('imports: link closed');
    // A lease held by another hil is nobody's board fault.
    expect(infraErrorOf({ ...infraRun('cam1'), error: { message: 'leased', exitCode: 3, phase: 'lease' } })).toBeUndefined();
  });

  it('exit code: 6 when a bad device was not run and all else passed; 1 and 3 win over it', () => {
    const bad: DeviceRunResult = { ...infraRun('cam2'), error: { message: 'device cam2 is bad', exitCode: 6, phase: 'health' } };
    expect(exitCodeFor([cleanRun('cam1'), bad])).toBe(6);
    expect(exitCodeFor([bad])).toBe(6);
    expect(exitCodeFor([infraRun('cam1'), bad])).toBe(3);
    const failed = cleanRun('cam1');
    failed.scenarios[0]!.checks[0]!.status = 'failed';
    expect(exitCodeFor([failed, bad])).toBe(1);
    expect(exitCodeFor([cleanRun('cam1')])).toBe(0);
  });
});

/** `d` as run on the board with this unique id (what the identity query on connect reports). */
const onBoard = (d: DeviceRunResult, uniqueId: string): DeviceRunResult => ({
  ...d,
  identity: {
    platform: 'OpenMV4-H7', machine: 'OpenMV H7 with STM32H743', mpy: null, implementation: { name: 'micropython', version: '1.27.0' }, uname: null,
    segments: [], uniqueId,
  },
});
const SINCE = '2026-11-30T02:00:00.000Z';
const stateOf = (device: string, state: DeviceState['state'], failures: number, boardId?: string): DeviceState =>
  ({ device, state, since: SINCE, reason: `${state} before`, failures, updatedAt: SINCE, ...(boardId ? { boardId } : {}) });

describe('states follow the board, not the bench name', () => {
  it('another board under a name gets a state of its own (reported); the old board keeps its own', async () => {
    const store = new MemoryStateStore([stateOf('cam1', 'suspect', 2, 'aaaa')]);
    const notes: string[] = [];
    const devices = [onBoard(cleanRun('cam1'), 'bbbb')];
    await settleHealth([target('cam1')], devices, new Scope(), { store, lockDir, onNote: (l) => notes.push(l) });
    // Before: keyed by name, the new board inherited cam1's suspect.
    expect(devices[0]!.health).toMatchObject({ state: 'ok', failures: 0 });
    expect(await store.getDeviceState('cam1')).toMatchObject({ state: 'ok', boardId: 'bbbb' });
    expect(await store.getBoardState('aaaa')).toMatchObject({ device: 'cam1', state: 'suspect', failures: 2 });
    expect(notes).toContain(`cam1: another board (unique id bbbb) than the one last seen under cam1 (aaaa, suspect since ${SINCE}): its own state, ok; aaaa's suspect stays with that board`);
  });

  it('a board bad under one name is still bad when it answers under another', async () => {
    const store = new MemoryStateStore([stateOf('cam1', 'bad', 3, 'aaaa')]);
    const devices = [onBoard(cleanRun('cam2'), 'aaaa')];
    await settleHealth([target('cam2')], devices, new Scope(), { store, lockDir });
    expect(devices[0]!.health).toMatchObject({ state: 'bad', failures: 0 });
    expect(await store.getDeviceState('cam2')).toMatchObject({ state: 'bad', boardId: 'aaaa' });
    expect(await store.getDeviceState('cam1')).toBeUndefined();
    expect((await scheduleByHealth([target('cam1'), target('cam2')], store)).run.map((t) => t.name)).toEqual(['cam1']);
  });

  it('a board that never answered: the one last seen under the name is presumed (its failures count)', async () => {
    const store = new MemoryStateStore([stateOf('cam1', 'suspect', 1, 'aaaa')]);
    const devices = [infraRun('cam1')];
    await settleHealth([target('cam1')], devices, new Scope(), { store, lockDir, badAfter: 2, steps: () => recordingSteps([], []) });
    expect(await store.getBoardState('aaaa')).toMatchObject({ state: 'bad', failures: 2 });
    const { notRun } = await scheduleByHealth([target('cam1')], store);
    expect(notRun.get('cam1')!.error!.message).toMatch(/^device cam1 is bad since .*\(board aaaa, the one last seen there; another board there gets its own state when it answers\)$/);
  });

  it('a name\'s own state (no board identified there yet) is taken over by the first board identified under it', async () => {
    const store = new MemoryStateStore([stateOf('cam1', 'suspect', 1)]);
    expect(await stateOfBoardAt(store, 'cam1', 'cccc')).toEqual({ prev: stateOf('cam1', 'suspect', 1), boardId: 'cccc' });
    await settleHealth([target('cam1')], [onBoard(cleanRun('cam1'), 'cccc')], new Scope(), { store, lockDir });
    expect(await store.listDeviceStates()).toEqual([expect.objectContaining({ device: 'cam1', boardId: 'cccc', state: 'suspect', failures: 0 })]);
    expect(await stateOfBoardAt(store, 'cam1', null)).toMatchObject({ prev: { boardId: 'cccc' }, boardId: 'cccc' });
  });
});
