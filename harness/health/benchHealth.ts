/**
 * Device health in a bench run (`hil run --bench`):
 * - before: a device whose state is `bad` is not scheduled; it is reported as a device error
 *   (exit code 6 when everything else passed: ExitCode.DEVICE_BAD) naming the reason and since
 *   when — never as a pass;
 * - after: a device that ended the run with an infrastructure error (link or board) goes through
 *   the recovery ladder (ladder.ts, recover.ts) under its lease; its state is updated
 *   (state.ts): recovered -> `suspect`, not recovered -> one more failure, `bad` at N in a row.
 *   A device that ran clean ends its series of failures.
 * Boards hil starts itself for the run (`sim`, `qemu`) have nothing to recover (the next run
 * starts a fresh one): their infrastructure error counts as a failure without a ladder.
 */
import type { BenchTarget } from '../bench/inventory.js';
import { bootsItself, leaseBoard } from '../bench/openTarget.js';
import { runBench, type RunBenchOptions } from '../bench/runBench.js';
import { resolveTargets } from '../bench/targets.js';
import type { RunScenariosOptions } from '../bench/runScenarios.js';
import { ExitCode, oneLine } from '../errors.js';
import { Scope } from '../lifecycle/scope.js';
import { loadScenario } from '../scenario/loadScenario.js';
import type { ScenarioDefinition } from '../scenario/definition.js';
import { makeRunResult, type DeviceHealthSummary, type DeviceRunResult, type RunResult } from '../scenario/result.js';
import { briefLadder, runLadder, type LadderResult, type LadderStep } from './ladder.js';
import { recoverySteps, type RecoverOptions } from './recover.js';
import { nextState, notScheduledReason, replacedNote, stateOfBoardAt, type DeviceState, type DeviceStateStore, type HealthEvent } from './state.js';

export interface BenchHealthOptions {
  store: DeviceStateStore;
  /** Consecutive failures before `bad` (default 3). */
  badAfter?: number;
  /** The ladder's steps for a device (default recover.ts: the device layer and uhubctl). */
  steps?: (t: BenchTarget, opts: RecoverOptions) => LadderStep[];
  /** Passed to the default steps (deadlines, uhubctl). */
  recover?: Partial<Omit<RecoverOptions, 'scope' | 'identity'>>;
  /** Lock folder of the leases (default: the usual one). */
  lockDir?: string;
  /** Where the leases live (`postgres://...`; default as for the run: leases/index.ts). */
  leases?: string;
  now?: () => Date;
  /** One line per thing worth telling the user (a device skipped, a ladder's outcome). */
  onNote?: (line: string) => void;
}

function summary(s: DeviceState, extra: Partial<DeviceHealthSummary> = {}): DeviceHealthSummary {
  return { state: s.state, since: s.since, ...(s.reason !== undefined ? { reason: s.reason } : {}), failures: s.failures, ...extra };
}

/** The run's infrastructure error on this device (one line), or undefined when it had none. */
export function infraErrorOf(d: DeviceRunResult): string | undefined {
  if (d.error) return d.error.exitCode === ExitCode.INFRA && d.error.phase !== 'lease' ? d.error.message : undefined;
  for (const s of d.scenarios) {
    if (s.error?.exitCode === ExitCode.INFRA) return s.error.message;
    for (const c of s.checks) {
      if (c.status !== 'error' || c.name === 'interrupted') continue;
      const code = (c.data as { exitCode?: unknown } | undefined)?.exitCode;
      if (c.failureClass === 'link' || c.failureClass === 'board' || code === ExitCode.INFRA) return `${c.name}: ${c.reason ?? 'error'}`;
    }
  }
  return undefined;
}

/** A bad device's place in the run's results: a device error with exit code 6, no scenarios run. */
export function notScheduledResult(t: BenchTarget, s: DeviceState): DeviceRunResult {
  return {
    device: t.name,
    connection: t.connection,
    profile: t.profile?.name ?? 'auto',
    simulated: t.simulated,
    scenarios: [],
    durationMs: 0,
    error: { message: notScheduledReason(s), exitCode: ExitCode.DEVICE_BAD, phase: 'health' },
    health: summary(s, { notScheduled: true }),
  };
}

/** Splits the bench into the devices to run and the bad ones (with their results). */
export async function scheduleByHealth(targets: readonly BenchTarget[], store: DeviceStateStore): Promise<{ run: BenchTarget[]; notRun: Map<string, DeviceRunResult> }> {
  const run: BenchTarget[] = [];
  const notRun = new Map<string, DeviceRunResult>();
  for (const t of targets) {
    const s = await store.getDeviceState(t.name);
    if (s?.state === 'bad') notRun.set(t.name, notScheduledResult(t, s));
    else run.push(t);
  }
  return { run, notRun };
}

/**
 * After a run: the ladder for each device that ended with an infrastructure error (one device
 * at a time: each holds its own lease), then every device's new state, stored and set on its
 * result's `health`.
 */
export async function settleHealth(targets: readonly BenchTarget[], devices: DeviceRunResult[], scope: Scope, opts: BenchHealthOptions): Promise<void> {
  const note = opts.onNote ?? (() => {});
  const now = opts.now ?? (() => new Date());
  for (const d of devices) {
    const t = targets.find((x) => x.name === d.device);
    if (!t || d.health?.notScheduled) continue;
    if (scope.aborted) return; // a signal: nothing is judged on an interrupted run
    // The board that answered decides whose state this is (state.ts); not reached: the one last seen there.
    const at = await stateOfBoardAt(opts.store, t.name, d.identity?.uniqueId);
    const prev = at.prev;
    const error = infraErrorOf(d);
    let event: HealthEvent;
    let ladder: LadderResult | undefined;
    if (error === undefined) {
      event = { kind: 'run-clean' };
    } else if (bootsItself(t) || t.simulated) {
      event = { kind: 'not-recovered', error, steps: 'no recovery: hil starts a fresh board for each run' };
    } else {
      const held = new Scope();
      try {
        await leaseBoard(t, held, { lockDir: opts.lockDir, leases: opts.leases, what: `hil recovery of ${t.name}` });
      } catch (e) {
        note(`${t.name}: recovery not attempted: ${oneLine(e)}`);
        await held.release();
        continue; // someone else has the board: no verdict on it
      }
      try {
        const stepsFor = opts.steps ?? recoverySteps;
        const abort = () => held.abort((scope.interruptedBy ?? 'SIGTERM') as NodeJS.Signals);
        scope.signal.addEventListener('abort', abort, { once: true });
        try {
          ladder = await runLadder(stepsFor(t, { ...opts.recover, scope: held, identity: d.identity }), (l) => note(`${t.name}: ${l}`));
        } finally {
          scope.signal.removeEventListener('abort', abort);
        }
      } finally {
        await held.release();
      }
      if (scope.aborted) return;
      event = ladder.recovered ? { kind: 'recovered', error, by: ladder.by! } : { kind: 'not-recovered', error, steps: briefLadder(ladder) };
    }
    const next = nextState(prev, t.name, event, { badAfter: opts.badAfter, now: now(), boardId: at.boardId });
    await opts.store.setDeviceState(next);
    if (at.replaced && at.boardId) note(replacedNote(t.name, at.boardId, at.replaced, next));
    d.health = summary(next, ladder ? { recovery: { recovered: ladder.recovered, by: ladder.by, steps: ladder.steps } } : {});
    if (next.state !== (prev?.state ?? 'ok') || error !== undefined) note(`${t.name}: health ${next.state}${next.reason ? ` (${next.reason})` : ''}`);
  }
}

/** runBench with device health: bad devices are not run, devices that hit infrastructure errors are recovered and judged. */
export async function runBenchWithHealth(targets: BenchTarget[], scenarios: ScenarioDefinition[], opts: RunBenchOptions, health: BenchHealthOptions): Promise<RunResult> {
  const started = new Date();
  const scope = opts.scope ?? new Scope();
  try {
    const { run, notRun } = await scheduleByHealth(targets, health.store);
    for (const r of notRun.values()) health.onNote?.(r.error!.message);
    const ran = run.length > 0 ? (await runBench(run, scenarios, { ...opts, scope })).devices : [];
    await settleHealth(run, ran, scope, { ...health, lockDir: health.lockDir ?? opts.lockDir, leases: health.leases ?? opts.leases });
    const byName = new Map(ran.map((d) => [d.device, d]));
    const devices = targets.map((t) => notRun.get(t.name) ?? byName.get(t.name)!).filter(Boolean);
    return makeRunResult(devices, started, opts.notes ?? []);
  } finally {
    if (!opts.scope) await scope.release();
  }
}

/**
 * `hil run` as one call, with device health for `--bench` runs (bench devices have names and a
 * state); other runs (`--device`, the default or simulated board) are runScenarios' as before.
 */
export async function runScenariosWithHealth(opts: RunScenariosOptions & { health?: BenchHealthOptions }): Promise<RunResult> {
  const cwd = opts.cwd ?? process.cwd();
  const defs = opts.scenarios.map((s) => (typeof s === 'string' ? loadScenario(s, cwd) : s));
  const { targets, notes, leases } = resolveTargets({ device: opts.device, bench: opts.bench, profile: opts.profile, cwd });
  for (const n of notes) opts.onNote?.(n);
  const withLeases = { ...opts, notes, leases: opts.leases ?? leases }; // --leases, else the bench file's (leases/index.ts)
  if (!opts.bench || !opts.health) return runBench(targets, defs, withLeases);
  return runBenchWithHealth(targets, defs, withLeases, opts.health);
}
