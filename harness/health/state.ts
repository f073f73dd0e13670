/**
 * Device health: each bench device is `ok`, `suspect` or `bad`, and how it moves between them.
 *
 * - `ok`: no unresolved infrastructure error. A device never recorded is `ok`.
 * - `suspect`: it ended a run with an infrastructure error (link or board), whether or not the
 *   recovery ladder (ladder.ts) brought it back, or its health scenario failed. It is still run.
 * - `bad`: the ladder could not bring it back N times in a row (`badAfter`, default 3). A bad
 *   device is not scheduled by `hil run --bench`; it is reported with the reason and since when.
 *
 * Only a passing `hil device health NAME` returns a device to `ok`. A run without an
 * infrastructure error ends a series of failures (the count starts again) but leaves the state.
 *
 * The states live in a DeviceStateStore (the history store, harness/history, keeps them; a
 * MemoryStateStore serves `--no-history` runs and tests). Pure functions only here.
 */

export type HealthState = 'ok' | 'suspect' | 'bad';
export const HEALTH_STATES: readonly HealthState[] = ['ok', 'suspect', 'bad'];

/** The default N: a device is `bad` after this many consecutive failed recoveries. */
export const DEFAULT_BAD_AFTER = 3;

export interface DeviceState {
  /** The bench name of the device (what `hil device health NAME` takes). */
  device: string;
  state: HealthState;
  /** When the device entered this state (ISO 8601 UTC). */
  since: string;
  /** One line: why it is in this state (absent for a plain `ok`). */
  reason?: string;
  /** Consecutive failures so far (failed recoveries, failed health scenarios). */
  failures: number;
  /** When this record was last written (ISO 8601 UTC). */
  updatedAt: string;
}

/** Where device states are kept. The history store implements it (same method names). */
export interface DeviceStateStore {
  getDeviceState(device: string): Promise<DeviceState | undefined>;
  setDeviceState(state: DeviceState): Promise<void>;
  listDeviceStates(): Promise<DeviceState[]>;
}

/** States kept in memory for one process: `--no-history` runs (nothing survives the run) and tests. */
export class MemoryStateStore implements DeviceStateStore {
  private readonly states = new Map<string, DeviceState>();
  constructor(initial: DeviceState[] = []) {
    for (const s of initial) this.states.set(s.device, { ...s });
  }
  async getDeviceState(device: string): Promise<DeviceState | undefined> {
    const s = this.states.get(device);
    return s ? { ...s } : undefined;
  }
  async setDeviceState(state: DeviceState): Promise<void> {
    this.states.set(state.device, { ...state });
  }
  async listDeviceStates(): Promise<DeviceState[]> {
    return [...this.states.values()].map((s) => ({ ...s })).sort((a, b) => a.device.localeCompare(b.device));
  }
}

/** What happened to a device, as the state machine sees it. */
export type HealthEvent =
  /** A run ended without an infrastructure error on this device. */
  | { kind: 'run-clean' }
  /** A run ended with an infrastructure error and the ladder brought the board back (`by`: the step). */
  | { kind: 'recovered'; error: string; by: string }
  /** A run ended with an infrastructure error and no step of the ladder brought it back. */
  | { kind: 'not-recovered'; error: string; steps: string }
  /** The health scenario ran: passed, or failed with a reason. */
  | { kind: 'health'; passed: boolean; reason?: string };

export interface TransitionOptions {
  badAfter?: number;
  now?: Date;
}

/** The state before any record: `ok`, no failures. */
export function initialState(device: string, now: Date): DeviceState {
  const t = now.toISOString();
  return { device, state: 'ok', since: t, failures: 0, updatedAt: t };
}

/** The next state of a device after `event`. */
export function nextState(prev: DeviceState | undefined, device: string, event: HealthEvent, opts: TransitionOptions = {}): DeviceState {
  const now = opts.now ?? new Date();
  const badAfter = opts.badAfter ?? DEFAULT_BAD_AFTER;
  const p = prev ?? initialState(device, now);
  const t = now.toISOString();
  const to = (state: HealthState, failures: number, reason?: string): DeviceState => ({
    device,
    state,
    since: state === p.state ? p.since : t,
    ...(reason !== undefined ? { reason } : {}),
    failures,
    updatedAt: t,
  });
  switch (event.kind) {
    case 'run-clean':
      // The series of failures ends; the state (and its reason) stays until a health check passes.
      return to(p.state, 0, p.reason);
    case 'recovered':
      return to(p.state === 'bad' ? 'bad' : 'suspect', 0, p.state === 'bad' ? p.reason : `infrastructure error (${event.error}); recovered by ${event.by}`);
    case 'not-recovered': {
      const failures = p.failures + 1;
      if (p.state === 'bad' || failures >= badAfter) {
        return to('bad', failures, `not recovered ${failures} time${failures === 1 ? '' : 's'} in a row (last: ${event.error}; ${event.steps})`);
      }
      return to('suspect', failures, `infrastructure error (${event.error}); not recovered (${event.steps}), ${failures}/${badAfter} before bad`);
    }
    case 'health': {
      if (event.passed) return to('ok', 0);
      const failures = p.failures + 1;
      const why = `health scenario failed: ${event.reason ?? 'no reason given'}`;
      if (p.state === 'bad') return to('bad', failures, why);
      if (failures >= badAfter) return to('bad', failures, `${why} (${failures} failures in a row)`);
      return to('suspect', failures, `${why} (${failures}/${badAfter} before bad)`);
    }
  }
}

/** One line about a bad device for a run that did not schedule it. */
export function notScheduledReason(s: DeviceState): string {
  return `device ${s.device} is bad since ${s.since} (${s.reason ?? 'no reason recorded'}): not run; \`hil device health ${s.device}\` returns it to ok when it passes`;
}
