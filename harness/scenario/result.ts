/**
 * What a scenario run produces: one CheckResult per check (and sub-check), grouped per scenario
 * and per device. Statuses are kept apart on purpose: `skipped` (the check could not run here,
 * with the reason) and `simulated` (ran against a simulated board: placement and format checked,
 * no real network executed) are never counted as `passed`. `error` is an infrastructure failure
 * (link or board) that stopped the check from producing a verdict.
 */
import type { BoardIdentity } from '../device/identify.js';

export type CheckStatus = 'passed' | 'failed' | 'skipped' | 'simulated' | 'error';
export const CHECK_STATUSES: readonly CheckStatus[] = ['passed', 'failed', 'skipped', 'simulated', 'error'];

/**
 * Why a check did not pass, as the history and the reports sort it (issue 13): `product` (the
 * check itself failed: a finding about the image or firmware), `link` (cable, port, transfer),
 * `board` (hung, reset, no answer, crashed outside a check's own verdict), `config` (bad input),
 * `harness` (a hil bug).
 */
export type FailureClass = 'product' | 'link' | 'board' | 'config' | 'harness';
export const FAILURE_CLASSES: readonly FailureClass[] = ['product', 'link', 'board', 'config', 'harness'];

export interface CheckResult {
  /** e.g. `listing`, `imports`, `models.placement`, `models.inference`. */
  name: string;
  status: CheckStatus;
  /** One line: why it failed / was skipped / was simulated (absent for a plain pass). */
  reason?: string;
  durationMs: number;
  /** Human-readable lines: every finding (file, address, alignment; module, traceback). */
  details: string[];
  /** Structured findings for --json consumers (shape depends on the check). */
  data?: unknown;
  /** Set on `failed` and `error` results: what kind of failure it was. */
  failureClass?: FailureClass;
}

/** One earlier attempt of a scenario that was run again after an infrastructure error. */
export interface AttemptEvidence {
  /** 1-based; the ScenarioResult itself is the last attempt. */
  attempt: number;
  /** Why it was not the final one (the error that made hil try again). */
  reason: string;
  failureClass?: FailureClass;
  checks: CheckResult[];
  error?: { message: string; exitCode: number; phase?: string; failureClass?: FailureClass };
  /** Transcript file of that attempt, when one was written. */
  transcript?: string;
  durationMs: number;
}

export interface FlashSummary {
  /** False when the board already held the image (hash-compared) and nothing was written. */
  written: boolean;
  strategy?: string;
  verifiedSha256?: string;
  durationMs: number;
  /** `never`: the scenario does not flash (checks run against whatever the board holds). */
  mode: 'auto' | 'always' | 'never';
}

export interface ImageSummary {
  /** Where it came from (source dir, romfs_config.json or .img path). */
  source: string;
  kind: 'source' | 'config' | 'img';
  bytes: number;
  sha256: string;
  files: number;
  /** sha256 of each file in the image, by its path in the image (the history keeps them). */
  fileSha256?: Record<string, string>;
}

export interface ScenarioResult {
  scenario: string;
  /** The scenario folder. */
  path: string;
  device: string;
  profile: string;
  image?: ImageSummary;
  flash?: FlashSummary;
  checks: CheckResult[];
  durationMs: number;
  /** Set when the scenario had to be run more than once after infrastructure errors. */
  attempts?: number;
  /** Every earlier attempt with its evidence, oldest first (never overwritten by the retry). */
  previousAttempts?: AttemptEvidence[];
  /** Set when the scenario stopped on an error before or between checks. */
  error?: { message: string; exitCode: number; phase?: string; failureClass?: FailureClass };
}

export interface DeviceRunResult {
  device: string;
  connection: string;
  /** The profile the board was driven with ('auto' until the board was reached without one). */
  profile: string;
  /** True when `profile` was chosen from what the board reported (none was given). */
  profileDetected?: boolean;
  /** What the board reported about itself on connect (harness/device/identify.ts). */
  identity?: BoardIdentity;
  /** The firmware personality of the profile it was driven with (MicroPython port, ROM-ioctl API). */
  firmware?: { port: string; api: string };
  /** The board is the simulated one (started by hil or named `sim`). */
  simulated: boolean;
  scenarios: ScenarioResult[];
  durationMs: number;
  /** Device-level failure (lease, open, link) that stopped every scenario on it. */
  error?: { message: string; exitCode: number; phase?: string; failureClass?: FailureClass };
  /** Files written under --out for this device. */
  files?: string[];
  /** Bench devices: the device's health after this run, and the recovery ladder's steps when it ran (harness/health). */
  health?: DeviceHealthSummary;
}

/** What harness/health says about a bench device after a run. */
export interface DeviceHealthSummary {
  state: 'ok' | 'suspect' | 'bad';
  /** When it entered that state (ISO 8601 UTC). */
  since: string;
  reason?: string;
  /** Consecutive failures so far. */
  failures: number;
  /** True when the device was not run because it is bad. */
  notScheduled?: boolean;
  /** The recovery ladder, when the run ended with an infrastructure error on this device. */
  recovery?: { recovered: boolean; by?: string; steps: { step: string; outcome: 'recovered' | 'failed' | 'skipped'; detail?: string; durationMs: number }[] };
}

export interface RunCounts {
  passed: number;
  failed: number;
  skipped: number;
  simulated: number;
  error: number;
  total: number;
}

export interface RunResult {
  startedAt: string;
  durationMs: number;
  devices: DeviceRunResult[];
  counts: RunCounts;
  /** The process exit code this run maps to (0 passed, 1 check failed, 3 infrastructure). */
  exitCode: number;
  /** Notes printed for the user (e.g. "started a simulated openmv-h7 board"). */
  notes: string[];
}

export function countChecks(devices: readonly DeviceRunResult[]): RunCounts {
  const c: RunCounts = { passed: 0, failed: 0, skipped: 0, simulated: 0, error: 0, total: 0 };
  for (const d of devices) {
    for (const s of d.scenarios) {
      for (const k of s.checks) {
        // A status hil does not know counts as an error, never as a pass.
        c[(CHECK_STATUSES as readonly string[]).includes(k.status) ? k.status : 'error']++;
        c.total++;
      }
    }
  }
  return c;
}

/**
 * Exit code of a run: 1 when any check failed (a finding about the product wins: it is what the
 * run is for), else 3 when a device, scenario or check hit an infrastructure error, else 6 when a
 * bad bench device was not run, else 0 (skipped and simulated checks do not fail a run; they are
 * reported as such).
 */
export function exitCodeFor(devices: readonly DeviceRunResult[]): number {
  // A bad bench device that was not run (harness/health) is exit 6 when all else passed.
  const notRun = devices.filter((d) => d.error?.exitCode === 6);
  if (notRun.length > 0) {
    const rest = exitCodeFor(devices.filter((d) => !notRun.includes(d)));
    return rest === 0 ? 6 : rest;
  }
  const c = countChecks(devices);
  if (c.failed > 0) return 1;
  const usage = devices.find((d) => d.error?.exitCode === 2) ?? undefined;
  if (usage) return 2;
  if (c.error > 0 || devices.some((d) => d.error || d.scenarios.some((s) => s.error))) {
    const codes = devices.flatMap((d) => [d.error?.exitCode, ...d.scenarios.map((s) => s.error?.exitCode)]).filter((x): x is number => x !== undefined);
    if (codes.length > 0 && codes.every((x) => x === 2)) return 2;
    return 3;
  }
  return 0;
}

export function makeRunResult(devices: DeviceRunResult[], startedAt: Date, notes: string[] = []): RunResult {
  return {
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    devices,
    counts: countChecks(devices),
    exitCode: exitCodeFor(devices),
    notes,
  };
}
