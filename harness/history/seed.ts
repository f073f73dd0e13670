/**
 * A synthetic nightly history (tests, `npm run bench`, the report's browser test): by default 16
 * devices x 3 scenarios x 60 nights, one `hil run` per night over the whole bench. Deterministic:
 * the same options give the same RunResults, and what each night holds is decided by the rules
 * below (tests assert against them through `seedRuns`' output, never against a second copy).
 *
 * Devices `cam01`..`camNN`; scenarios `model-load` (listing, imports, models.placement,
 * models.inference), `boot` (listing, imports), `inference` (models.inference). Everything
 * passes except:
 * - regression: from night `regressionNight` (default 40) model-load gets image v2, and
 *   models.inference FAILS on cam03, cam04, cam05 (product);
 * - flaky: cam07's inference/models.inference fails (product) on every night n with n % 4 === 1,
 *   same image, firmware and board throughout;
 * - rising infra errors: cam12's boot scenario has a first attempt ending in a link error
 *   (retried, passes on attempt 2) on nights n >= nights - 15 with n % 2 === 0, and on every night
 *   of the last 5 (the retry also fails: ERR, class link);
 * - firmware upgrade: cam01..cam08 report firmware v1.27.0 until night `firmwareNight` (default
 *   50), v1.28.0 from then on;
 * - gone: the last device is not reached (device error, class board) on the last 3 nights.
 * Durations and flash figures vary smoothly per device and night; models.inference carries
 * `data: [{ path, latencyMs, ... }]` and the flash summary `durationMs` and image bytes.
 */
import type { BoardIdentity } from '../device/identify.js';
import type { CheckResult, DeviceRunResult, RunResult, ScenarioResult } from '../scenario/result.js';
import { countChecks, exitCodeFor } from '../scenario/result.js';
import type { HistoryStore } from './store.js';
import type { RunProvenance } from './provenance.js';

export interface SeedOptions {
  devices?: number;
  nights?: number;
  /** The first night's start (default 2026-01-01T02:00:00Z); each next night one day later. */
  start?: Date;
  regressionNight?: number;
  firmwareNight?: number;
}

export const SEED_SCENARIOS: Record<string, string[]> = {
  'model-load': ['listing', 'imports', 'models.placement', 'models.inference'],
  boot: ['listing', 'imports'],
  inference: ['models.inference'],
};

const PROFILES = ['openmv-h7', 'openmv-h7-plus', 'openmv-rt1062', 'openmv-n6'];
const hex64 = (s: string) => {
  // Stable fake sha256 from a label (no crypto needed for synthetic data, but 64 hex chars).
  let h1 = 0x811c9dc5, h2 = 0x1000193;
  for (const c of s) {
    h1 = Math.imul(h1 ^ c.charCodeAt(0), 16777619) >>> 0;
    h2 = Math.imul(h2 + c.charCodeAt(0), 2246822519) >>> 0;
  }
  return Array.from({ length: 8 }, (_, i) => (Math.imul(h1 + i * 0x9e3779b9, h2 | 1) >>> 0).toString(16).padStart(8, '0')).join('');
};

export const seedDeviceName = (i: number) => `cam${String(i + 1).padStart(2, '0')}`;

function identity(dev: number, fw: string): BoardIdentity {
  return {
    platform: 'OpenMV4-H7', machine: 'OpenMV H7 with STM32H743', mpy: { raw: 6 | (10 << 10), version: 6, subVersion: 0, arch: 'armv7emsp' },
    implementation: { name: 'micropython', version: fw },
    uname: { sysname: 'OpenMV4-H7', nodename: 'OpenMV4-H7', release: fw, version: `v${fw} on 2026-01-01`, machine: 'OpenMV H7 with STM32H743' },
    segments: [{ id: 0, access: 'memoryview', origin: 0x90000000, size: 4 << 20 }], uniqueId: `3400${String(dev).padStart(4, '0')}5130511733383438`,
  };
}

/** The RunResults of the seeded history, one per night, oldest first. */
export function seedRuns(opts: SeedOptions = {}): RunResult[] {
  const nDev = opts.devices ?? 16;
  const nights = opts.nights ?? 60;
  const start = (opts.start ?? new Date('2026-01-01T02:00:00Z')).getTime();
  const regression = opts.regressionNight ?? 40;
  const fwNight = opts.firmwareNight ?? 50;
  const runs: RunResult[] = [];
  for (let n = 0; n < nights; n++) {
    const startedAt = new Date(start + n * 86_400_000);
    const devices: DeviceRunResult[] = [];
    for (let d = 0; d < nDev; d++) {
      const name = seedDeviceName(d);
      const fw = d < 8 && n >= fwNight ? '1.28.0' : '1.27.0';
      const profile = PROFILES[d % PROFILES.length]!;
      const base = { device: name, connection: `/dev/serial/by-id/usb-OpenMV_${name}-if00`, profile, simulated: false, durationMs: 0 };
      if (d === nDev - 1 && n >= nights - 3) {
        devices.push({ ...base, scenarios: [], durationMs: 30_000, error: { message: `${name}: no answer on ${base.connection} after 2 attempts`, exitCode: 3, phase: 'connect', failureClass: 'board' } });
        continue;
      }
      const scenarios: ScenarioResult[] = [];
      for (const [sc, checks] of Object.entries(SEED_SCENARIOS)) {
        const imageVersion = sc === 'model-load' && n >= regression ? 2 : 1;
        const sha = hex64(`${sc}-image-v${imageVersion}`);
        const wave = Math.sin((n + d) / 5);
        const mk = (check: string): CheckResult => {
          const durationMs = Math.round((check === 'models.inference' ? 900 : 120) * (1 + 0.1 * wave) + d * 3);
          const r: CheckResult = { name: check, status: 'passed', durationMs, details: [] };
          if (check === 'models.inference') r.data = [{ path: '/rom/person.tflite', latencyMs: Math.round(40 + 5 * wave + d + (imageVersion === 2 ? 6 : 0)), got: [[1, 2]] }];
          const regressed = sc === 'model-load' && check === 'models.inference' && n >= regression && d >= 2 && d <= 4;
          const flaky = sc === 'inference' && d === 6 && n % 4 === 1;
          if (regressed || flaky) {
            r.status = 'failed';
            r.failureClass = 'product';
            r.reason = regressed ? '/rom/person.tflite: predict returned outputs of shape [[1,3]], expected [[1,2]]' : '/rom/person.tflite: first inference failed: MemoryError';
          }
          return r;
        };
        const s: ScenarioResult = {
          scenario: sc, path: `/bench/scenarios/${sc}`, device: name, profile,
          image: { source: `/bench/scenarios/${sc}/romfs`, kind: 'source', bytes: 180_000 + 20_000 * imageVersion, sha256: sha, files: 3, fileSha256: { 'main.py': hex64(`${sc}-main-${imageVersion}`), 'person.tflite': hex64(`model-${imageVersion}`), 'lib.mpy': hex64('lib') } },
          flash: { written: n === 0 || (sc === 'model-load' && n === regression), strategy: 'rom-ioctl', verifiedSha256: sha, durationMs: Math.round(2000 + 200 * wave + d * 10), mode: 'auto' },
          checks: checks.map(mk), durationMs: 0,
        };
        const infraNight = d === 11 && sc === 'boot' && ((n >= nights - 15 && n % 2 === 0) || n >= nights - 5);
        if (infraNight) {
          s.previousAttempts = [{
            attempt: 1, reason: 'link closed while waiting for the raw REPL prompt [phase: exec]', failureClass: 'link',
            checks: [{ name: 'listing', status: 'error', reason: 'link closed while waiting for the raw REPL prompt', durationMs: 5000, details: [], failureClass: 'link' }, { name: 'imports', status: 'error', reason: 'not attempted: an earlier check hit an infrastructure error', durationMs: 0, details: [], failureClass: 'link' }],
            transcript: `/var/lib/hil/nightly/${n}/${name}/transcript.attempt-1.txt`, durationMs: 5200,
          }];
          s.attempts = 2;
          if (n >= nights - 5) {
            s.checks = [{ name: 'listing', status: 'error', reason: 'link closed while waiting for the raw REPL prompt', durationMs: 5000, details: [], failureClass: 'link' }, { name: 'imports', status: 'error', reason: 'not attempted: an earlier check hit an infrastructure error', durationMs: 0, details: [], failureClass: 'link' }];
          }
        }
        s.durationMs = s.checks.reduce((a, c) => a + c.durationMs, 0) + (s.flash?.durationMs ?? 0);
        scenarios.push(s);
      }
      devices.push({ ...base, identity: identity(d, fw), firmware: { port: 'stm32', api: 'released' }, scenarios, durationMs: scenarios.reduce((a, s) => a + s.durationMs, 0), files: [`/var/lib/hil/nightly/${n}/${name}/transcript.txt`] });
    }
    runs.push({ startedAt: startedAt.toISOString(), durationMs: Math.max(...devices.map((x) => x.durationMs)), devices, counts: countChecks(devices), exitCode: exitCodeFor(devices), notes: [] });
  }
  return runs;
}

/** Provenance of seeded runs: a fixed host and hil version (0.1.0, 0.2.0 from the regression night). */
export function seedProvenance(night: number, opts: SeedOptions = {}): RunProvenance {
  return { hilVersion: night >= (opts.regressionNight ?? 40) ? '0.2.0' : '0.1.0', host: 'bench-1', ci: { system: 'github', job: `lab/cams#${1000 + night} nightly` } };
}

/** Records the seeded history into `store`; returns the run ids, oldest first. */
export async function seedHistory(store: HistoryStore, opts: SeedOptions = {}): Promise<number[]> {
  const ids: number[] = [];
  const runs = seedRuns(opts);
  for (const [n, run] of runs.entries()) ids.push(await store.recordRun(run, { provenance: seedProvenance(n, opts), scenarioHash: (dir) => hex64(dir) }));
  return ids;
}
