/**
 * `--ctrf FILE`: the run as a CTRF JSON report (Common Test Report Format; schema
 * github:ctrf-io/ctrf schema/ctrf.schema.json, specVersion 1.0.0). Required fields: top level
 * `reportFormat` ("CTRF"), `specVersion`, `results`; results: `tool` (`name`), `summary` (`tests`,
 * `passed`, `failed`, `skipped`, `pending`, `other`, `start`, `stop`, integers; start/stop in
 * milliseconds since the epoch), `tests`; each test: `name`, `status` (passed | failed | skipped |
 * pending | other), `duration` (integer milliseconds). Every object in the schema is closed
 * (additionalProperties: false) except `extra`, which is where hil's own fields go.
 *
 * One test per check (suite = [device, scenario]). Statuses: passed -> passed; failed -> failed;
 * error (infrastructure, no verdict) -> failed with rawStatus "error"; skipped -> skipped;
 * simulated -> other with rawStatus "simulated" (never passed). A device or scenario that stopped
 * before its checks is a test `setup` that failed. Retried attempts (a scenario run again after an
 * infrastructure error) are `retryAttempts` (attempt 1 first, the verdict last), `retries` counts
 * the earlier ones, and `flaky` is true when the check passed after an attempt in which it did not.
 */
import { writeFile } from 'node:fs/promises';
import { hostname, platform, release } from 'node:os';
import type { AttemptEvidence, CheckResult, CheckStatus, DeviceRunResult, RunResult, ScenarioResult } from '../scenario/result.js';
import { firmwareOf } from './junit.js';
import { defaultClass } from '../history/store.js';

export const CTRF_SPEC_VERSION = '1.0.0';

export type CtrfStatus = 'passed' | 'failed' | 'skipped' | 'pending' | 'other';

export interface CtrfAttachment { name: string; contentType: string; path: string }

export interface CtrfAttempt {
  attempt: number;
  status: CtrfStatus;
  duration?: number;
  message?: string;
  trace?: string;
  attachments?: CtrfAttachment[];
  extra?: Record<string, unknown>;
}

export interface CtrfTest {
  name: string;
  status: CtrfStatus;
  duration: number;
  suite?: string[];
  message?: string;
  trace?: string;
  rawStatus?: string;
  filePath?: string;
  device?: string;
  retries?: number;
  retryAttempts?: CtrfAttempt[];
  flaky?: boolean;
  attachments?: CtrfAttachment[];
  extra?: Record<string, unknown>;
}

export interface CtrfReport {
  reportFormat: 'CTRF';
  specVersion: string;
  timestamp?: string;
  generatedBy?: string;
  results: {
    tool: { name: string; version?: string };
    summary: { tests: number; passed: number; failed: number; skipped: number; pending: number; other: number; flaky?: number; suites?: number; start: number; stop: number; duration?: number };
    tests: CtrfTest[];
    environment?: { osPlatform?: string; osRelease?: string; extra?: Record<string, unknown> };
  };
}

const ms = (n: number) => (Number.isFinite(n) ? Math.max(0, Math.round(n)) : 0);

export function ctrfStatus(s: CheckStatus | string): CtrfStatus {
  switch (s) {
    case 'passed': return 'passed';
    case 'skipped': return 'skipped';
    case 'simulated': return 'other';
    // failed, error, and any status hil does not know (never a pass).
    default: return 'failed';
  }
}

const TRANSCRIPT = (path: string): CtrfAttachment => ({ name: 'transcript', contentType: 'text/plain', path });

function attemptOf(name: string, a: AttemptEvidence): CtrfAttempt {
  const c = a.checks.find((k) => k.name === name);
  const extra: Record<string, unknown> = { reason: a.reason };
  if (a.failureClass) extra.failureClass = a.failureClass;
  const base: CtrfAttempt = c
    ? { attempt: a.attempt, status: ctrfStatus(c.status), duration: ms(c.durationMs), ...(c.reason ? { message: c.reason } : {}) }
    // The attempt stopped before this check gave a verdict.
    : { attempt: a.attempt, status: 'failed', duration: 0, message: `attempt ${a.attempt} stopped before this check: ${a.error?.message ?? a.reason}` };
  if (c?.failureClass) extra.failureClass = c.failureClass;
  if (c && c.status !== 'passed' && c.status !== 'failed') extra.rawStatus = c.status;
  if (!c) extra.rawStatus = 'error';
  return { ...base, ...(a.transcript ? { attachments: [TRANSCRIPT(a.transcript)] } : {}), extra };
}

function shared(d: DeviceRunResult, s: ScenarioResult | undefined): Record<string, unknown> {
  const x: Record<string, unknown> = { profile: s?.profile ?? d.profile, simulated: d.simulated, connection: d.connection };
  if (d.identity?.uniqueId) x.uniqueId = d.identity.uniqueId;
  if (d.identity?.machine) x.machine = d.identity.machine;
  const fw = firmwareOf(d);
  if (fw) x.firmware = fw;
  if (s?.image) x.imageSha256 = s.image.sha256;
  if (s) x.attempts = s.attempts ?? (s.previousAttempts?.length ?? 0) + 1;
  return x;
}

function testOf(c: CheckResult, d: DeviceRunResult, s: ScenarioResult, transcript: string | undefined): CtrfTest {
  const status = ctrfStatus(c.status);
  const t: CtrfTest = { name: String(c.name), status, duration: ms(c.durationMs), suite: [d.device, s.scenario], device: d.device, filePath: s.path };
  if (c.status !== 'passed' && c.status !== 'failed') t.rawStatus = String(c.status);
  const message = c.status === 'simulated' ? `simulated: ${c.reason ?? 'ran on the simulated board'}` : c.reason;
  if (message) t.message = message;
  if (Array.isArray(c.details) && c.details.length) t.trace = c.details.join('\n');
  const extra = shared(d, s);
  const cls = c.failureClass ?? defaultClass(c.status);
  if (cls) extra.failureClass = cls;
  t.extra = extra;
  if (transcript) t.attachments = [TRANSCRIPT(transcript)];
  const earlier = s.previousAttempts ?? [];
  if (earlier.length) {
    const attempts = earlier.map((a) => attemptOf(c.name, a));
    const last = earlier.length + 1;
    attempts.push({ attempt: last, status, duration: t.duration, ...(t.message ? { message: t.message } : {}), ...(transcript ? { attachments: [TRANSCRIPT(transcript)] } : {}) });
    t.retries = earlier.length;
    t.retryAttempts = attempts;
    t.flaky = status === 'passed' && attempts.slice(0, -1).some((a) => a.status !== 'passed');
  }
  return t;
}

export function toCtrf(run: RunResult, opts: { hilVersion?: string; now?: Date } = {}): CtrfReport {
  const tests: CtrfTest[] = [];
  for (const d of run.devices) {
    const transcript = d.files?.find((f) => /transcript/.test(f));
    if (d.error) {
      tests.push({ name: 'setup', status: 'failed', duration: 0, suite: [d.device], device: d.device, message: d.error.message, rawStatus: 'error', extra: { ...shared(d, undefined), phase: d.error.phase, exitCode: d.error.exitCode }, ...(transcript ? { attachments: [TRANSCRIPT(transcript)] } : {}) });
    }
    for (const s of d.scenarios) {
      if (s.error) {
        tests.push({ name: `setup (${s.error.phase ?? 'scenario'})`, status: 'failed', duration: 0, suite: [d.device, s.scenario], device: d.device, filePath: s.path, message: s.error.message, rawStatus: 'error', extra: { ...shared(d, s), phase: s.error.phase, exitCode: s.error.exitCode } });
      }
      for (const c of s.checks) tests.push(testOf(c, d, s, transcript));
    }
  }
  const count = (st: CtrfStatus) => tests.filter((t) => t.status === st).length;
  const start = Date.parse(run.startedAt);
  const startMs = Number.isFinite(start) ? start : 0;
  const suites = new Set(tests.map((t) => (t.suite ?? []).join('\u0000')));
  return {
    reportFormat: 'CTRF',
    specVersion: CTRF_SPEC_VERSION,
    timestamp: (opts.now ?? new Date()).toISOString(),
    generatedBy: `hil${opts.hilVersion ? ` ${opts.hilVersion}` : ''}`,
    results: {
      tool: { name: 'hil', ...(opts.hilVersion ? { version: opts.hilVersion } : {}) },
      summary: {
        tests: tests.length,
        passed: count('passed'),
        failed: count('failed'),
        skipped: count('skipped'),
        pending: count('pending'),
        other: count('other'),
        flaky: tests.filter((t) => t.flaky).length,
        suites: suites.size,
        start: startMs,
        stop: startMs + ms(run.durationMs),
        duration: ms(run.durationMs),
      },
      tests,
      environment: { osPlatform: platform(), osRelease: release(), extra: { host: hostname(), exitCode: run.exitCode } },
    },
  };
}

export async function writeCtrf(file: string, run: RunResult, opts: { hilVersion?: string } = {}): Promise<void> {
  await writeFile(file, JSON.stringify(toCtrf(run, opts), null, 2) + '\n');
}
