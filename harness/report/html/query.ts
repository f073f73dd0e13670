/**
 * The report's only contact with the history store (harness/history): reads the recent runs, every
 * attempt's check verdicts in them (HistoryStore.verdicts: the columns the page shows, no evidence
 * blobs to parse), the device states and the latest `hil device health` runs, asks the history's
 * own queries (harness/history/queries.ts: regressions, flaky checks, devices' infra trends; the
 * same answers `hil history` gives) and hands plain rows and those answers to assembleReport.
 * Health runs are kept out of the grid, the changes and the trends: they are shown with the
 * device's health.
 */
import type { HistoryStore, RunRow, VerdictRow } from '../../history/index.js';
import { describeChanges, findFlaky, findRegressions, type FlakyReport, type RegressionEntry } from '../../history/queries.js';
import { assembleReport, type HistoryAttemptRow, type HistoryCheckRow, type HistoryDeviceRow, type HistoryFlashRow, type ReportInput } from './assemble.js';
import type { ReportChange, ReportData, ReportFlaky, ReportHealthRun, ReportRun } from './data.js';

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
function firmwareOf(r: Pick<VerdictRow, 'firmware' | 'firmwareVersion'>): string | undefined {
  const v = r.firmwareVersion ?? undefined;
  const p = r.firmware ?? undefined;
  return v && p ? `${v} (${p})` : v ?? p;
}

export function toInputRows(rows: readonly VerdictRow[]): { checks: HistoryCheckRow[]; attempts: HistoryAttemptRow[]; flashes: HistoryFlashRow[] } {
  const checks: HistoryCheckRow[] = [];
  const attempts = new Map<string, HistoryAttemptRow>();
  const flashes = new Map<string, HistoryFlashRow>();
  for (const r of rows) {
    const runId = String(r.runId);
    checks.push({
      runId, device: r.device, scenario: r.scenario, check: r.check, status: r.status, reason: opt(r.reason), failureClass: opt(r.failureClass),
      durationMs: r.durationMs, attempt: r.attempt, transcript: opt(r.transcript), imageSha: opt(r.imageSha256), firmware: firmwareOf(r),
      ...(r.latencies.length ? { latencies: r.latencies } : {}),
    });
    const ak = `${runId}\u0000${r.device}\u0000${r.scenario}\u0000${r.attempt}`;
    if (!attempts.has(ak)) attempts.set(ak, { runId, device: r.device, scenario: r.scenario, attempt: r.attempt, reason: opt(r.attemptReason), failureClass: opt(r.attemptFailureClass), transcript: opt(r.transcript) });
    if (r.flashMs !== null && r.imageBytes !== null && !flashes.has(ak)) flashes.set(ak, { runId, device: r.device, bytes: r.imageBytes, durationMs: r.flashMs, written: r.flashWritten === true });
  }
  return { checks, attempts: [...attempts.values()], flashes: [...flashes.values()] };
}

function changeOf(e: RegressionEntry<VerdictRow>): ReportChange {
  return {
    device: e.device, scenario: e.scenario, check: e.check, before: e.previous?.status ?? null, after: e.latest.status,
    reason: opt(e.latest.reason ?? e.previous?.reason), failureClass: opt(e.latest.failureClass), transcript: opt(e.latest.transcript ?? e.previous?.transcript),
    changed: e.changed.map((c) => describeChanges([c])),
    ...(e.failingSince ? { failingSince: { startedAt: e.failingSince.startedAt, runs: e.failingSince.runs } } : {}),
  };
}

/** The newest run's regressions (each key's latest verdict against its previous one), and flaky checks over the window. */
export function historyAnswers(rows: readonly VerdictRow[], newestRunId: number | undefined): Pick<ReportInput, 'regressions' | 'flaky' | 'infra'> {
  const entries = findRegressions(rows).filter((e) => e.latest.runId === newestRunId);
  const of = (k: RegressionEntry<VerdictRow>['kind']) => entries.filter((e) => e.kind === k).map(changeOf);
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

/** Each device's latest health run (rows of kind-`health` runs, any order): passed, or its first check that did not pass. */
export function latestHealth(rows: readonly VerdictRow[]): Map<string, ReportHealthRun> {
  const byRun = new Map<string, VerdictRow[]>();
  for (const r of rows) {
    if (!r.final) continue;
    const k = `${r.device}\u0000${r.runId}`;
    let list = byRun.get(k);
    if (!list) byRun.set(k, (list = []));
    list.push(r);
  }
  const out = new Map<string, ReportHealthRun>();
  for (const list of byRun.values()) {
    const r0 = list[0]!;
    const have = out.get(r0.device);
    if (have && (have.startedAt > r0.startedAt || (have.startedAt === r0.startedAt && Number(have.runId) > r0.runId))) continue;
    const bad = list.find((r) => r.status !== 'passed');
    out.set(r0.device, {
      runId: String(r0.runId), startedAt: r0.startedAt, status: bad?.status ?? 'passed',
      ...(bad ? { reason: `${bad.check}: ${bad.reason ?? bad.status}` } : {}), transcript: opt((bad ?? r0).transcript),
    });
  }
  return out;
}

/** How many health runs the report reads for the devices' latest (a bench is rarely over this). */
const HEALTH_RUNS = 200;

export async function queryReportData(store: HistoryStore, q: ReportQuery): Promise<ReportData> {
  const gridRuns = Math.max(1, Math.floor(q.gridRuns ?? DEFAULT_GRID_RUNS));
  const windowRuns = Math.max(gridRuns, Math.floor(q.windowRuns ?? DEFAULT_WINDOW_RUNS));
  const runs = await store.recentRuns({ limit: windowRuns, kind: 'run' });
  const rows = await store.verdicts(runs.map((r) => r.id));
  const healthRuns = await store.recentRuns({ limit: HEALTH_RUNS, kind: 'health' });
  const health = latestHealth(await store.verdicts(healthRuns.map((r) => r.id), { finalOnly: true }));
  const states = await store.listDeviceStates();
  // Profile and board id of each device as last recorded.
  const last = new Map<string, VerdictRow>();
  const lastFw = new Map<string, string>();
  for (const r of rows) {
    last.set(r.device, r);
    const fw = firmwareOf(r);
    if (fw) lastFw.set(r.device, fw);
  }
  const byName = new Map(states.map((s) => [s.device, s]));
  const known = new Set([...byName.keys(), ...last.keys(), ...health.keys()]);
  const devices: HistoryDeviceRow[] = [...known].map((name) => {
    const s = byName.get(name);
    const l = last.get(name);
    const h = health.get(name);
    return {
      name, state: s?.state ?? ('unknown' as const), reason: opt(s?.reason), since: s?.since,
      profile: opt(l?.profile), uniqueId: opt(s?.boardId ?? l?.boardId), firmware: lastFw.get(name), ...(h ? { lastHealth: h } : {}),
    };
  });
  return assembleReport({
    title: q.title, generatedAt: (q.now ?? new Date()).toISOString(), hilVersion: q.hilVersion, source: `${store.location} (${store.kind})`,
    runs: runs.map(runOf), ...toInputRows(rows), devices, gridRuns, ...historyAnswers(rows, runs[0]?.id),
  });
}
