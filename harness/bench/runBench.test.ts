/**
 * runBench's workers share the command's scope: waiting on its signal must not cost one abort
 * listener per board on it (a 16-board `hil run --bench` printed MaxListenersExceededWarning),
 * and a signal must still reach every worker. The boards are reached through runBench's `open`
 * hook (for tests of the runner itself): each open waits until all 16 are waiting at once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { getEventListeners } from 'node:events';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runBench } from './runBench.js';
import type { BenchTarget } from './inventory.js';
import { loadScenario } from '../scenario/loadScenario.js';
import { loadProfile } from '../profile/profile.js';
import { Scope } from '../lifecycle/scope.js';
import { LinkTimeoutError } from '../transport/errors.js';
import type { Device } from '../device/types.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const tmp = mkdtempSync(join(tmpdir(), 'hil-runbench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const N = 16;
const targets = (): BenchTarget[] =>
  Array.from({ length: N }, (_, i) => ({ name: `cam${i}`, connection: `/dev/ttyTEST${i}`, profile: loadProfile('openmv-h7'), simulated: false, extra: {} }));
const scenarios = () => [loadScenario(join(root, 'scenarios/model-load'))];

describe('runBench with 16 boards waiting at once', () => {
  it('adds no abort listener per board to the shared scope (16 were a MaxListenersExceededWarning)', async () => {
    const scope = new Scope();
    const rejects: ((e: Error) => void)[] = [];
    let onScope = -1;
    const open = () =>
      new Promise<Device>((_, reject) => {
        rejects.push(reject);
        if (rejects.length === N) {
          setImmediate(() => {
            // All 16 workers are waiting for their board now.
            onScope = getEventListeners(scope.signal, 'abort').length;
            rejects.forEach((r) => r(new LinkTimeoutError('no answer (test)', 'open')));
          });
        }
      });
    try {
      const r = await runBench(targets(), scenarios(), { open, openAttempts: 1, lockDir: join(tmp, 'locks1'), scope });
      expect(r.devices.map((d) => d.error?.exitCode)).toEqual(Array(N).fill(3));
      // Node warns past 10 listeners on one EventTarget.
      expect(onScope).toBeGreaterThanOrEqual(0);
      expect(onScope).toBeLessThanOrEqual(1);
    } finally {
      await scope.release();
    }
  });

  it('still stops every board when the scope is aborted (a signal)', async () => {
    const scope = new Scope();
    let waiting = 0;
    const open = () =>
      new Promise<Device>(() => {
        if (++waiting === N) setImmediate(() => scope.abort('SIGINT'));
      });
    try {
      const r = await runBench(targets(), scenarios(), { open, openAttempts: 1, lockDir: join(tmp, 'locks2'), scope });
      expect(r.devices.map((d) => d.scenarios[0]?.checks[0]?.reason)).toEqual(Array(N).fill('interrupted by SIGINT before it started'));
    } finally {
      await scope.release();
    }
  });
});
