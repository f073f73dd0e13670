/**
 * Run scenarios on every target in parallel: one worker per device, each holding the device's
 * lease (its identity: boardKey.ts) for the whole run. One board failing (lease busy, link down, a
 * check failing) never stops the others; every device gets its DeviceRunResult. Two entries that
 * are one board are refused before anything starts. Leases, boards and their children are held
 * in the command's scope and released on the way out; when the scope is aborted (a signal) each
 * device returns at once with what finished, the check in progress marked ERR "interrupted".
 * A SIGKILL leaves a lock file whose holder is dead, which the next hil removes.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { hostname } from 'node:os';
import type { Device } from '../device/types.js';
import { ExitCode, HilError, InfraError, oneLine } from '../errors.js';
import type { ScenarioDefinition } from '../scenario/definition.js';
import { makeRunResult, type AttemptEvidence, type CheckResult, type DeviceRunResult, type FailureClass, type RunResult, type ScenarioResult } from '../scenario/result.js';
import { classifyError } from '../scenario/failureClass.js';
import { runScenario } from '../scenario/runScenario.js';
import { resolveImage } from '../scenario/resolveImage.js';
import type { ScenarioImage } from '../scenario/context.js';
import type { TransferPlan } from '../flash/planTransfer.js';
import type { ImageSpec } from '../scenario/definition.js';
import type { BoardProfile } from '../profile/profile.js';
import { imageSpecFor } from '../scenario/loadScenario.js';
import { resolve } from 'node:path';
import type { BenchTarget } from './inventory.js';
import { FileLeaseStore, LeaseLostError, describeHolder, openLeaseStore, type HeldLease, type LeaseStore } from './leases/index.js';
import { bootsItself, openTarget } from './openTarget.js';
import { takeLease, type ScopedLease } from './leaseBoard.js';
import { checkSameBoard, detectedNote, OTHER_BOARD_PHASE } from '../device/identify.js';
import { boardKey, boardKeys } from './boardKey.js';
import { Scope } from '../lifecycle/scope.js';

export interface RunBenchOptions {
  image?: string;
  flash?: ScenarioDefinition['flash'];
  /** Write per-device transcript and log under DIR/<device>/. */
  outDir?: string;
  /** How long to wait for a busy device (ms, default 60000). */
  leaseWaitMs?: number;
  lockDir?: string;
  /** Where leases live, opened by the caller (who closes it). Default: opened from `leases`. */
  leaseStore?: LeaseStore;
  /** `postgres://...`, `file`, `file:DIR` (default $HIL_LEASES, else lock files in lockDir): leases/index.ts. */
  leases?: string;
  /** TTL of PostgreSQL leases (ms). */
  leaseTtlMs?: number;
  /** Said to the user (e.g. where the shared leases live). */
  onNote?: (note: string) => void;
  /** Attempts to open a device before giving up (default 2). */
  openAttempts?: number;
  /** Runs of a scenario that hit an infrastructure error (reconnecting in between; default 2). */
  scenarioAttempts?: number;
  /** Open a target (default: the device layer). Tests of the runner itself can pass their own. */
  open?: (t: BenchTarget) => Promise<Device>;
  /** Live progress: a device started, a check finished. */
  onEvent?: (e: BenchEvent) => void;
  notes?: string[];
  /** Shared by the workers of one run: each image is built once per profile, not once per board. */
  images?: Map<string, Promise<ScenarioImage>>;
  /** Shared by the workers of one run: each image is compressed for transfer once, not once per board. */
  flashPlans?: Map<string, TransferPlan>;
  /** The command's scope (leases, boards, children; aborted by a signal). Default: one for this run. */
  scope?: Scope;
  /** The device's lease key (runBench computes them all first). Default: boardKey(t). */
  leaseKey?: string;
  /** The device's folder under outDir (runBench makes them safe and unique). */
  outName?: string;
  /** `hil run --record-golden`: the models check records golden outputs (one trusted board). */
  recordGolden?: boolean;
}

const buildQueue = new WeakMap<Map<string, Promise<ScenarioImage>>, Promise<unknown>>();

/** resolveImage memoised in `cache` by image and profile (alignment rules and size come from it). */
export function sharedImages(cache: Map<string, Promise<ScenarioImage>>): typeof resolveImage {
  return (spec: ImageSpec, profile: BoardProfile) => {
    const key = `${spec.kind}\0${spec.path}\0${profile.source}\0${profile.name}`;
    let p = cache.get(key);
    if (!p) {
      // One build at a time: concurrent wasm mpy-cross compilers in one process can hang (seen with
      // a cold cache and two profiles), and builds are cached after the first anyway.
      const prev = buildQueue.get(cache) ?? Promise.resolve();
      p = prev.then(() => resolveImage(spec, profile), () => resolveImage(spec, profile));
      buildQueue.set(cache, p.catch(() => undefined));
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    return p;
  };
}

export type BenchEvent =
  | { type: 'device-start'; device: string; connection: string }
  | { type: 'lease-wait'; device: string; holder: string }
  /** No profile was given: the one matching what the board reports was chosen (`note` says so). */
  | { type: 'profile-detected'; device: string; profile: string; note: string }
  | { type: 'check'; device: string; scenario: string; result: CheckResult }
  | { type: 'device-end'; device: string; result: DeviceRunResult };

/** Lease key: the board's identity (real tty path, USB serial, resolved address, own instance for qemu/sim). */
export const leaseKey = boardKey;

/**
 * Folder names under --out, one per device: a plain file name is kept; any other name has every
 * run of other characters made `_` (`sim:openmv-h7` -> `sim_openmv-h7`). A name that would still
 * be unsafe (empty, `.`, `..`, a leading dot, `results.json`) or that lands on another device's
 * folder (`a/b` next to `a_b`) gets a short hash of the original as well, so no device writes
 * outside --out and no two share a folder.
 */
export function outDirNames(names: readonly string[]): Map<string, string> {
  const plain = (n: string) => /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(n) && n !== 'results.json';
  const hashed = (n: string, base: string) => `${base.replace(/^[._]+/, '').slice(0, 60) || 'device'}-${createHash('sha256').update(n).digest('hex').slice(0, 8)}`;
  const first = new Map<string, string>();
  for (const n of names) {
    if (plain(n)) first.set(n, n);
    else {
      const base = n.replace(/[^A-Za-z0-9._-]+/g, '_');
      first.set(n, plain(base) && !n.startsWith('.') ? base : hashed(n, base));
    }
  }
  const count = new Map<string, number>();
  for (const v of first.values()) count.set(v, (count.get(v) ?? 0) + 1);
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const n of names) if (plain(n)) used.add(n);
  for (const n of names) {
    let v = first.get(n)!;
    if (!plain(n) && (count.get(v)! > 1 || (used.has(v) && v !== n))) v = hashed(n, v);
    for (let i = 2; !plain(n) && used.has(v); i++) v = `${hashed(n, first.get(n)!)}-${i}`;
    used.add(v);
    out.set(n, v);
  }
  return out;
}

const ABORTED = Symbol('aborted');
/** `p`, or ABORTED as soon as `signal` aborts (the work is abandoned, its board is released by the scope). */
function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

class Interrupted extends Error {}

/** A check stopped by a signal: the operator's doing, neither the board's nor the product's (class config). */
function interruptedCheck(why: string): CheckResult {
  return { name: 'interrupted', status: 'error', reason: why, durationMs: 0, details: [], failureClass: 'config' };
}

function errorOf(e: unknown): { message: string; exitCode: number; phase?: string; failureClass: FailureClass } {
  if (e instanceof HilError) return { message: oneLine(e), exitCode: e.exitCode, phase: (e as { phase?: string }).phase, failureClass: classifyError(e) };
  return { message: `internal error: ${oneLine(e)}`, exitCode: ExitCode.INFRA, failureClass: 'harness' };
}

/** What made an attempt end in an infrastructure error: its scenario error, else its first error check. */
function attemptEvidence(r: ScenarioResult, attempt: number, transcript: string | undefined): AttemptEvidence {
  const c = r.checks.find((x) => x.status === 'error');
  const reason = r.error ? `${r.error.message}${r.error.phase ? ` [phase: ${r.error.phase}]` : ''}` : `${c?.name}: ${c?.reason ?? 'error'}`;
  const ev: AttemptEvidence = { attempt, reason, failureClass: r.error?.failureClass ?? c?.failureClass, checks: r.checks, durationMs: r.durationMs };
  if (r.error) ev.error = r.error;
  if (transcript) ev.transcript = transcript;
  return ev;
}


export async function runOnTarget(t: BenchTarget, scenarios: ScenarioDefinition[], opts: RunBenchOptions = {}): Promise<DeviceRunResult> {
  const t0 = performance.now();
  const logLines: string[] = [];
  const log = (line: string) => logLines.push(`${new Date().toISOString()} ${line}`);
  const result: DeviceRunResult = { device: t.name, connection: t.connection, profile: t.profile?.name ?? 'auto', simulated: t.simulated, scenarios: [], durationMs: 0 };
  opts.onEvent?.({ type: 'device-start', device: t.name, connection: t.connection });
  let lease: HeldLease | undefined;
  let held: ScopedLease | undefined;
  let device: Device | undefined;
  /** The last device the device layer made, connected or not: its transcript is kept for a failed connect too. */
  let seen: Device | undefined;
  const scope = opts.scope ?? new Scope();
  const ownScope = !opts.scope;
  // This worker's own signal, aborted with the scope's. The workers of a bench share one scope:
  // each waiting on the scope's signal itself put one abort listener per board on it (16 boards:
  // MaxListenersExceededWarning). AbortSignal.any follows the scope without adding a listener to it.
  const signal = AbortSignal.any([scope.signal]);
  const why = () => `interrupted by ${scope.interruptedBy ?? 'a signal'}`;
  const outFolder = opts.outDir ? join(opts.outDir, opts.outName ?? outDirNames([t.name]).get(t.name)!) : undefined;
  let scenarioIndex = 0;
  try {
    const key = opts.leaseKey ?? (await boardKey(t));
    // The lease is taken (and released with the scope) by leaseBoard.ts, as for every command.
    held = await takeLease(t, scope, {
      store: opts.leaseStore ?? new FileLeaseStore(opts.lockDir),
      key,
      signal,
      waitMs: opts.leaseWaitMs ?? 60_000,
      what: `hil run ${scenarios.map((s) => s.name).join(' ')} on ${t.name}`,
      onWait: (h) => {
        const who = h ? (h.host === hostname() ? `PID ${h.pid} (${h.what})` : describeHolder(h)) : 'another process';
        log(`lease busy: held by ${who}; waiting`);
        opts.onEvent?.({ type: 'lease-wait', device: t.name, holder: who });
      },
    });
    lease = held.lease;
    const taken = lease;
    if (signal.aborted) throw new Interrupted();
    log(`lease taken: ${lease.where}${lease.token !== null ? ` token ${lease.token}` : ''} (board ${key})`);
    // Every board operation first checks the lease is still ours (a fenced holder stops).
    const fence = () => taken.fence();
    // A board hil boots itself (QEMU) starts with the first scenario's image in its partition
    // (the loader); flashing then finds it by its sha256 on the board and writes nothing.
    let bootImage: Uint8Array | undefined;
    const first = scenarios[0];
    if (!opts.open && bootsItself(t) && t.profile && first && (opts.flash ?? first.flash) === 'auto') {
      try {
        const spec = opts.image ? imageSpecFor(resolve(opts.image)) : first.image;
        bootImage = (await (opts.images ? sharedImages(opts.images) : resolveImage)(spec, t.profile!)).bytes;
        log(`boot image: ${bootImage.length} bytes from ${spec.path} in the partition at power-on`);
      } catch {
        bootImage = undefined; // the scenario reports the image problem itself
      }
    }
    const open = async (): Promise<Device> => {
      const attempts = Math.max(1, opts.openAttempts ?? 2);
      for (let i = 1; ; i++) {
        try {
          return await (opts.open ? opts.open(t) : openTarget(t, { bootImage, scope, fence, onDevice: (d) => (seen = d) }));
        } catch (e) {
          const err = errorOf(e);
          log(`open attempt ${i}/${attempts} failed: ${err.message}`);
          if (signal.aborted) throw new Interrupted();
          if (i >= attempts || err.exitCode === ExitCode.USAGE || e instanceof LeaseLostError) throw e;
        }
      }
    };
    const opened = await unlessAborted(open(), signal);
    if (opened === ABORTED) throw new Interrupted();
    device = opened;
    // A board hil booted itself for this open has run only its identity query so far (see
    // runScenario's freshBoot); true until a scenario runs on it.
    const bootedByOpen = !opts.open && bootsItself(t);
    let freshBoot = bootedByOpen;
    result.profile = device.profile.name;
    result.firmware = { ...device.profile.firmware };
    if (device.identity) {
      result.identity = device.identity;
      result.profileDetected = device.profileDetected ?? false;
    }
    log(`opened ${t.connection} as ${device.name} (profile ${device.profile.name}${device.profileDetected ? ', detected' : ''})`);
    if (device.profileDetected && device.identity) opts.onEvent?.({ type: 'profile-detected', device: t.name, profile: device.profile.name, note: detectedNote(t.name, device.profile, device.identity) });
    for (const s of scenarios) {
      const scenarioAttempts = Math.max(1, opts.scenarioAttempts ?? 2);
      // Earlier attempts of this scenario, with their evidence: kept, never overwritten by the retry.
      const earlier: AttemptEvidence[] = [];
      for (let attempt = 1; ; attempt++) {
        log(`scenario ${s.name} (${s.file})${attempt > 1 ? `, attempt ${attempt}/${scenarioAttempts}` : ''}`);
        const finished: CheckResult[] = [];
        const ts = performance.now();
        const r0: ScenarioResult | typeof ABORTED = await unlessAborted(runScenario(device, s, {
          image: opts.image,
          flash: opts.flash,
          simulatedBoard: t.simulated,
          recordGolden: opts.recordGolden,
          resolveImage: opts.images ? sharedImages(opts.images) : undefined,
          flashPlans: opts.flashPlans,
          freshBoot,
          log,
          onCheck: (c) => {
            if (signal.aborted) return; // what the closing link does to the check in flight is not its verdict
            finished.push(c);
            opts.onEvent?.({ type: 'check', device: t.name, scenario: s.name, result: c });
          },
        }), signal);
        freshBoot = false;
        if (r0 === ABORTED) {
          // What finished stays; the check in progress is marked as interrupted.
          const c = interruptedCheck(`${why()}: the check in progress and the ones after it did not finish`);
          opts.onEvent?.({ type: 'check', device: t.name, scenario: s.name, result: c });
          result.scenarios.push({
            scenario: s.name, path: s.dir, device: t.name, profile: result.profile, checks: [...finished, c], durationMs: performance.now() - ts,
            ...(earlier.length ? { attempts: attempt, previousAttempts: earlier } : {}),
          });
          scenarioIndex++;
          throw new Interrupted();
        }
        const r = r0;
        if (r.error) log(`scenario ${s.name} stopped: ${r.error.message}`);
        const infra = r.error?.exitCode === ExitCode.INFRA || r.checks.some((c) => c.status === 'error');
        // Another board answered where this one was (a crash's recovery found another unique id):
        // no retry, no further scenario: nothing more is written to it.
        const other = r.checks.find((c) => c.status === 'error' && (c.data as { phase?: unknown } | undefined)?.phase === OTHER_BOARD_PHASE);
        if (other) {
          result.scenarios.push(r);
          scenarioIndex++;
          throw new InfraError(`${other.reason ?? 'another board answered'}; the run on ${t.name} stops, nothing more is written to it`, OTHER_BOARD_PHASE);
        }
        // A lease no longer ours ends this board's run: no retry, no further scenario (two runners never write one board).
        if (infra) await fence().catch((e: unknown) => {
          result.scenarios.push(r);
          scenarioIndex++;
          throw e;
        });
        if (!infra || attempt >= scenarioAttempts) {
          if (attempt > 1) {
            r.attempts = attempt;
            r.previousAttempts = earlier;
          }
          result.scenarios.push(r);
          scenarioIndex++;
          break;
        }
        if (signal.aborted) throw new Interrupted();
        // A link or board fault: reconnect and run the scenario again from the start.
        log(`infrastructure error; reopening ${t.connection} and retrying the scenario`);
        // This attempt's transcript is written now, under its own name: the reopened link starts a new one.
        let transcript: string | undefined;
        if (outFolder) {
          try {
            await mkdir(outFolder, { recursive: true });
            transcript = join(outFolder, `transcript.${s.name.replace(/[^A-Za-z0-9._-]+/g, '_')}.attempt-${attempt}.txt`);
            await device.transcript.writeTo(transcript);
            result.files = [...(result.files ?? []), transcript];
          } catch (e) {
            log(`could not write the attempt's transcript: ${oneLine(e)}`);
            transcript = undefined;
          }
        }
        earlier.push(attemptEvidence(r, attempt, transcript));
        try {
          await device.close();
        } catch { /* the link is already gone */ }
        device = undefined;
        const again = await unlessAborted(open(), signal);
        if (again === ABORTED) throw new Interrupted();
        device = again;
        freshBoot = bootedByOpen;
        // The board reopened must be the one the run began on (else: device error, nothing written).
        checkSameBoard(t.name, result.identity, device.identity, OTHER_BOARD_PHASE);
      }
    }
  } catch (e) {
    if (e instanceof Interrupted || signal.aborted) {
      // Scenarios not reached are listed, so a report shows what did not run.
      for (const s of scenarios.slice(scenarioIndex)) {
        result.scenarios.push({ scenario: s.name, path: s.dir, device: t.name, profile: result.profile, checks: [interruptedCheck(`${why()} before it started`)], durationMs: 0 });
      }
      log(`stopped: ${why()}`);
    } else {
      result.error = errorOf(e);
      log(`device error: ${result.error.message}`);
    }
  } finally {
    const linked = device ?? seen;
    if (linked && outFolder) {
      // Written for a failed connect too: that is when it is needed.
      const dir = outFolder;
      try {
        await mkdir(dir, { recursive: true });
        const transcript = join(dir, 'transcript.txt');
        await linked.transcript.writeTo(transcript);
        result.files = [...(result.files ?? []), transcript];
      } catch (e) {
        log(`could not write transcript: ${oneLine(e)}`);
      }
    }
    if (device) {
      try {
        await device.close();
        log('board closed'); // before the lease is given back: the next holder's traffic comes after this line
      } catch (e) {
        log(`close failed: ${oneLine(e)}`);
      }
    }
    if (held) {
      await held.release();
      log('lease released');
    }
    if (ownScope) await scope.release();
    result.durationMs = performance.now() - t0;
    if (outFolder) {
      const dir = outFolder;
      try {
        await mkdir(dir, { recursive: true });
        const logFile = join(dir, 'log.txt');
        await writeFile(logFile, logLines.join('\n') + '\n');
        result.files = [...(result.files ?? []), logFile];
      } catch { /* reported by the missing file list */ }
    }
  }
  opts.onEvent?.({ type: 'device-end', device: t.name, result });
  return result;
}

/** Every target in parallel; resolves when all are done. */
export async function runBench(targets: BenchTarget[], scenarios: ScenarioDefinition[], opts: RunBenchOptions = {}): Promise<RunResult> {
  const started = new Date();
  const names = new Set<string>();
  for (const t of targets) {
    if (names.has(t.name)) throw new HilError(`device name '${t.name}' appears twice`, ExitCode.USAGE);
    names.add(t.name);
  }
  // One board listed twice, or two spellings of one board: refused before anything starts (exit 2).
  const keys = opts.open ? targets.map((t) => `test/${t.name}`) : await boardKeys(targets);
  const outNames = outDirNames(targets.map((t) => t.name));
  const scope = opts.scope ?? new Scope();
  const store = opts.leaseStore ?? openLeaseStore({ leases: opts.leases, lockDir: opts.lockDir, ttlMs: opts.leaseTtlMs });
  const closeStore = opts.leaseStore ? null : scope.defer(`leases ${store.where}`, () => store.close());
  if (!opts.leaseStore && store.kind === 'postgres') opts.onNote?.(`leases shared in ${store.where}`);
  const shared = { ...opts, scope, leaseStore: store, images: opts.images ?? new Map<string, Promise<ScenarioImage>>(), flashPlans: opts.flashPlans ?? new Map<string, TransferPlan>() };
  try {
    const devices = await Promise.all(targets.map((t, i) => runOnTarget(t, scenarios, { ...shared, leaseKey: keys[i], outName: outNames.get(t.name) })));
    return makeRunResult(devices, started, opts.notes ?? []);
  } finally {
    await closeStore?.release();
    if (!opts.scope) await scope.release();
  }
}
