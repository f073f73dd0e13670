/**
 * Device states in the real history store, SQLite and PostgreSQL (HIL_TEST_POSTGRES: a schema of
 * this file's own, dropped at the end; skipped with the reason printed when unset): what the
 * ladder decides is what the next run reads, and a history that cannot be opened is one warning
 * (the run goes on, its states not kept).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { openHistory } from '../history/index.js';
import { testPgReason, testPgSchema } from '../history/testing.js';
import type { BenchTarget } from '../bench/inventory.js';
import { Scope } from '../lifecycle/scope.js';
import type { DeviceRunResult } from '../scenario/result.js';
import { scheduleByHealth, settleHealth } from './benchHealth.js';
import { openDeviceStates } from './historyStore.js';
import type { LadderStep } from './ladder.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-health-history-'));
const pgt = testPgSchema('hil_health_test');
afterAll(async () => {
  await pgt?.drop();
  rmSync(tmp, { recursive: true, force: true });
});
if (!pgt) process.stderr.write(`health history tests: ${testPgReason()}\n`);

const target: BenchTarget = { name: 'cam1', connection: 'socket://127.0.0.1:7', simulated: false, extra: {} };
const failingSteps = (): LadderStep[] => (['soft-reset', 'hard-reset', 'power-cycle'] as const).map((name) => ({ name, run: async () => { throw new Error(`${name}: no answer`); } }));
const infraRun = (): DeviceRunResult => ({
  device: 'cam1', connection: target.connection, profile: 'openmv-h7', simulated: false, durationMs: 1, scenarios: [],
  error: { message: 'cam1: board not ready within 1500 ms', exitCode: 3, phase: 'connect' },
});

const engines: [string, () => string][] = [['SQLite', () => join(tmp, 'h.sqlite')]];
if (pgt) engines.push(['PostgreSQL', () => pgt.url]);

describe.each(engines)('device states in the history (%s)', (_engine, where) => {
  it('failed recoveries are kept across runs; at N the next run does not schedule the device', async () => {
    for (let night = 1; night <= 2; night++) {
      const states = await openDeviceStates(where());
      expect(states.kept).toBe(true);
      try {
        expect((await scheduleByHealth([target], states.store)).run).toHaveLength(1);
        await settleHealth([target], [infraRun()], new Scope(), { store: states.store, badAfter: 2, steps: failingSteps, lockDir: join(tmp, 'locks') });
      } finally {
        await states.close();
      }
    }
    const h = await openHistory(where());
    try {
      const row = await h.getDeviceState('cam1');
      expect(row).toMatchObject({ device: 'cam1', state: 'bad', consecutiveFailures: 2 });
      expect(row!.reason).toMatch(/^not recovered 2 times in a row \(last: cam1: board not ready within 1500 ms; soft-reset failed, hard-reset failed, power-cycle failed\)$/);
    } finally {
      await h.close();
    }
    const states = await openDeviceStates(where());
    try {
      const { run, notRun } = await scheduleByHealth([target], states.store);
      expect(run).toEqual([]);
      expect(notRun.get('cam1')!.error!.exitCode).toBe(6);
    } finally {
      await states.close();
    }
  });
});

describe('a history that cannot be opened', () => {
  it('is one warning; the states are not kept and nothing is skipped', async () => {
    writeFileSync(join(tmp, 'blocker'), 'a file where a folder must be');
    const warnings: string[] = [];
    const states = await openDeviceStates(join(tmp, 'blocker', 'h.sqlite'), { onWarning: (w) => warnings.push(w) });
    expect(states.kept).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^device states not kept: history .*blocker\/h\.sqlite cannot be opened \(/);
    expect((await scheduleByHealth([target], states.store)).run).toHaveLength(1);
    await states.close();
  });

  it('--no-history: not read or kept', async () => {
    const states = await openDeviceStates(false);
    expect({ kept: states.kept, where: states.where }).toEqual({ kept: false, where: 'not kept (--no-history)' });
  });
});
