/**
 * The report's only contact with the history store (harness/history): reads the recent runs, every
 * attempt's results in them and the device states, asks the history's own queries
 * (harness/history/queries.ts: regressions, flaky checks, devices' infra trends; the same answers
 * `hil history` gives) and hands plain rows and those answers to assembleReport.
 */
import type { HistoryStore, ResultRow, RunRow } from '../../history/index.js';
import { describeChanges, findFlaky, findRegressions, type FlakyReport, type RegressionEntry } from '../../history/queries.js';
import { assembleReport, type HistoryAttemptRow, type HistoryCheckRow, type HistoryFlashRow, type ReportInput } from './assemble.js';
import type { ReportChange, ReportData, ReportFlaky, ReportRun } from './data.js';

export interface ReportQuery {
  /** Runs in the grid (default 14). */
  gridRuns?: number;
  /** Runs read for flaky checks and trends (default 60; at least gridRuns). */
  windowRuns?: number;
  title?: string;
  hilVersion: string;
  now?: Date;
}

export const DEFAULT_GRID_RUNS = 14;
export const DEFAULT_WINDOW_RUNS = 60;

const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

function runOf(r: RunRow): ReportRun {
  const ci = r.ci as { job?: string; url?: string } | null;
  return { id: String(r.id), startedAt: r.startedAt, host: r.host, hilVersion: r.hilVersion, ciJob: opt(ci?.job) };
}

/** The firmware as the report shows it: the firmware's own version, with its personality. */
function firmwareOf(r: ResultRow): string | undefined {
  const v = r.firmwareVersion ?? undefined;
  const p = r.firmware ?? undefined;
  return v && p ? `${v} (${p})` : v ?? p;
}

export function toInputRows(rows: readonly ResultRow[]): { checks: HistoryCheckRow[]; attempts: HistoryAttemptRow[]; flashes: HistoryFlashRow[] } {
  const checks: HistoryCheckRow[] = [];
  const attempts = new Map<string, HistoryAttemptRow>();
  const flashes = new Map<string, HistoryFlashRow>();
  for (const r of rows) {
    const runId = String(r.runId);
    checks.push({
      runId, device: r.device, scenario: r.scenario, check: r.check, status: r.status, reason: opt(r.reason), failureClass: opt(r.failureClass),
      durationMs: r.durationMs, attempt: r.attempt, transcript: opt(r.transcript), imageSha: opt(r.imageSha256), firmware: firmwareOf(r), data: r.data,
    });
    const ak = `${runId}\u0000${r.device}\u0000${r.scenario}\u0000${r.attempt}`;
    if (!attempts.has(ak)) attempts.set(ak, { runId, device: r.device, scenario: r.scenario, attempt: r.attempt, reason: opt(r.attemptReason), failureClass: opt(r.attemptFailureClass), transcript: opt(r.transcript) });
    if (r.flash && r.imageBytes !== null && !flashes.has(ak)) flashes.set(ak, { runId, device: r.device, bytes: r.imageBytes, durationMs: r.flash.durationMs, written: r.flash.written });
  }
  return { checks, attempts: [...attempts.values()], flashes: [...flashes.values()] };
}

function changeOf(e: RegressionEntry): ReportChange {
  return {
    device: e.device, scenario: e.scenario, check: e.check, before: e.previous?.status ?? null, after: e.latest.status,
    reason: opt(e.latest.reason ?? e.previous?.reason), failureClass: opt(e.latest.failureClass), transcript: opt(e.latest.transcript ?? e.previous?.transcript),
    changed: e.changed.map((c) => describeChanges([c])),
    ...(e.failingSince ? { failingSince: { startedAt: e.failingSince.startedAt, runs: e.failingSince.runs } } : {}),
  };
}

/** The newest run's regressions (each key's latest verdict against its previous one), and flaky checks over the window. */
export function historyAnswers(rows: readonly ResultRow[], newestRunId: number | undefined): Pick<ReportInput, 'regressions' | 'flaky' | 'infra'> {
  const entries = findRegressions(rows).filter((e) => e.latest.runId === newestRunId);
  const of = (k: RegressionEntry['kind']) => entries.filter((e) => e.kind === k).map(changeOf);
  const f: FlakyReport = findFlaky(rows);
  const flaky: ReportFlaky[] = f.flaky.map((x) => ({
    device: x.device, scenario: x.scenario, check: x.check, imageSha: opt(x.imageSha256), firmware: opt(x.firmware), passed: x.passed, failed: x.failed,
    evidence: x.failures.map((y) => ({ runId: String(y.runId), startedAt: y.startedAt, attempt: y.attempt, status: 'failed' as const, reason: opt(y.reason), transcript: opt(y.transcript) })),
    deviceInfraRising: x.deviceInfraRising,
  }));
  return {
    regressions: { newFailures: of('new-failure'), fixed: of('fixed'), stillFailing: of('still-failing') },
    flaky,
    infra: f.devices.map((d) => ({ device: d.device, rising: d.rising, reasons: d.reasons })),
  };
}

export async function queryReportData(store: HistoryStore, q: ReportQuery): Promise<ReportData> {
  const gridRuns = Math.max(1, Math.floor(q.gridRuns ?? DEFAULT_GRID_RUNS));
  const windowRuns = Math.max(gridRuns, Math.floor(q.windowRuns ?? DEFAULT_WINDOW_RUNS));
  const runs = await store.recentRuns({ limit: windowRuns });
  const rows = await store.resultsForRuns(runs.map((r) => r.id));
  const states = await store.listDeviceStates();
  // Profile and board id of each device as last recorded.
  const last = new Map<string, ResultRow>();
  const lastFw = new Map<string, string>();
  for (const r of rows) {
    last.set(r.device, r);
    const fw = firmwareOf(r);
    if (fw) lastFw.set(r.device, fw);
  }
  const known = new Set([...states.map((s) => s.device), ...last.keys()]);
  const devices = [...known].map((name) => {
    const s = states.find((x) => x.device === name);
    const l = last.get(name);
    return {
      name, state: s?.state ?? ('unknown' as const), reason: opt(s?.reason), since: s?.since,
      profile: opt(l?.profile), uniqueId: opt(l?.boardId), firmware: lastFw.get(name),
    };
  });
  return assembleReport({
    title: q.title, generatedAt: (q.now ?? new Date()).toISOString(), hilVersion: q.hilVersion, source: `${store.location} (${store.kind})`,
    runs: runs.map(runOf), ...toInputRows(rows), devices, gridRuns, ...historyAnswers(rows, runs[0]?.id),
  });
}
