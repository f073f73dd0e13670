/**
 * Run scenarios on every target in parallel: one worker per device, each holding the device's
 * lease for the whole run. One board failing (lease busy, link down, a check failing) never stops
 * the others; every device gets its DeviceRunResult. Leases are released on the way out, and on
 * process exit should anything be left (a SIGKILL leaves a lock file whose holder is dead, which
 * the next taker removes).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Device } from '../device/types.js';
import { ExitCode, HilError, oneLine } from '../errors.js';
import type { ScenarioDefinition } from '../scenario/definition.js';
import { makeRunResult, type CheckResult, type DeviceRunResult, type RunResult } from '../scenario/result.js';
import { runScenario } from '../scenario/runScenario.js';
import { resolveImage } from '../scenario/resolveImage.js';
import type { ScenarioImage } from '../scenario/context.js';
import type { TransferPlan } from '../flash/planTransfer.js';
import type { ImageSpec } from '../scenario/definition.js';
import type { BoardProfile } from '../profile/profile.js';
import { imageSpecFor } from '../scenario/loadScenario.js';
import { resolve } from 'node:path';
import type { BenchTarget } from './inventory.js';
import { acquireLease, type Lease } from './lease.js';
import { bootsItself, openTarget } from './openTarget.js';
import { detectedNote } from '../device/identify.js';

export interface RunBenchOptions {
  image?: string;
  flash?: ScenarioDefinition['flash'];
  /** Write per-device transcript and log under DIR/<device>/. */
  outDir?: string;
  /** How long to wait for a busy device (ms, default 60000). */
  leaseWaitMs?: number;
  lockDir?: string;
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

/** Lease key: the physical resource (connection) for real boards, the name for simulated ones. */
export function leaseKey(t: BenchTarget): string {
  return t.simulated ? `sim/${t.name}` : t.connection;
}

const live = new Set<Lease>();
let exitHook = false;
function track(l: Lease): void {
  live.add(l);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const x of live) x.release();
    });
  }
}

function errorOf(e: unknown): { message: string; exitCode: number; phase?: string } {
  if (e instanceof HilError) return { message: oneLine(e), exitCode: e.exitCode, phase: (e as { phase?: string }).phase };
  return { message: `internal error: ${oneLine(e)}`, exitCode: ExitCode.INFRA };
}

const safeName = (n: string) => n.replace(/[^A-Za-z0-9._-]+/g, '_');

export async function runOnTarget(t: BenchTarget, scenarios: ScenarioDefinition[], opts: RunBenchOptions = {}): Promise<DeviceRunResult> {
  const t0 = performance.now();
  const logLines: string[] = [];
  const log = (line: string) => logLines.push(`${new Date().toISOString()} ${line}`);
  const result: DeviceRunResult = { device: t.name, connection: t.connection, profile: t.profile?.name ?? 'auto', simulated: t.simulated, scenarios: [], durationMs: 0 };
  opts.onEvent?.({ type: 'device-start', device: t.name, connection: t.connection });
  let lease: Lease | undefined;
  let device: Device | undefined;
  try {
    lease = await acquireLease(leaseKey(t), {
      dir: opts.lockDir,
      waitMs: opts.leaseWaitMs ?? 60_000,
      what: `hil run ${scenarios.map((s) => s.name).join(' ')} on ${t.name}`,
      onWait: (h) => {
        const who = h ? `PID ${h.pid} (${h.what})` : 'another process';
        log(`lease busy: held by ${who}; waiting`);
        opts.onEvent?.({ type: 'lease-wait', device: t.name, holder: who });
      },
    });
    track(lease);
    log(`lease taken: ${lease.file}`);
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
          return await (opts.open ? opts.open(t) : openTarget(t, { bootImage }));
        } catch (e) {
          const err = errorOf(e);
          log(`open attempt ${i}/${attempts} failed: ${err.message}`);
          if (i >= attempts || err.exitCode === ExitCode.USAGE) throw e;
        }
      }
    };
    device = await open();
    result.profile = device.profile.name;
    if (device.identity) {
      result.identity = device.identity;
      result.profileDetected = device.profileDetected ?? false;
    }
    log(`opened ${t.connection} as ${device.name} (profile ${device.profile.name}${device.profileDetected ? ', detected' : ''})`);
    if (device.profileDetected && device.identity) opts.onEvent?.({ type: 'profile-detected', device: t.name, profile: device.profile.name, note: detectedNote(t.name, device.profile, device.identity) });
    for (const s of scenarios) {
      const scenarioAttempts = Math.max(1, opts.scenarioAttempts ?? 2);
      for (let attempt = 1; ; attempt++) {
        log(`scenario ${s.name} (${s.file})${attempt > 1 ? `, attempt ${attempt}/${scenarioAttempts}` : ''}`);
        const r = await runScenario(device, s, {
          image: opts.image,
          flash: opts.flash,
          simulatedBoard: t.simulated,
          resolveImage: opts.images ? sharedImages(opts.images) : undefined,
          flashPlans: opts.flashPlans,
          log,
          onCheck: (c) => opts.onEvent?.({ type: 'check', device: t.name, scenario: s.name, result: c }),
        });
        if (r.error) log(`scenario ${s.name} stopped: ${r.error.message}`);
        const infra = r.error?.exitCode === ExitCode.INFRA || r.checks.some((c) => c.status === 'error');
        if (!infra || attempt >= scenarioAttempts) {
          if (attempt > 1) r.attempts = attempt;
          result.scenarios.push(r);
          break;
        }
        // A link or board fault: reconnect and run the scenario again from the start.
        log(`infrastructure error; reopening ${t.connection} and retrying the scenario`);
        try {
          await device.close();
        } catch { /* the link is already gone */ }
        device = undefined;
        device = await open();
      }
    }
  } catch (e) {
    result.error = errorOf(e);
    log(`device error: ${result.error.message}`);
  } finally {
    if (device) {
      if (opts.outDir) {
        const dir = join(opts.outDir, safeName(t.name));
        try {
          await mkdir(dir, { recursive: true });
          const transcript = join(dir, 'transcript.txt');
          await device.transcript.writeTo(transcript);
          result.files = [transcript];
        } catch (e) {
          log(`could not write transcript: ${oneLine(e)}`);
        }
      }
      try {
        await device.close();
      } catch (e) {
        log(`close failed: ${oneLine(e)}`);
      }
    }
    if (lease) {
      lease.release();
      live.delete(lease);
      log('lease released');
    }
    result.durationMs = performance.now() - t0;
    if (opts.outDir) {
      const dir = join(opts.outDir, safeName(t.name));
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
  const shared = { ...opts, images: opts.images ?? new Map<string, Promise<ScenarioImage>>(), flashPlans: opts.flashPlans ?? new Map<string, TransferPlan>() };
  const devices = await Promise.all(targets.map((t) => runOnTarget(t, scenarios, shared)));
  return makeRunResult(devices, started, opts.notes ?? []);
}
