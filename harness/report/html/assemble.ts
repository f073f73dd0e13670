/**
 * From plain history rows (what the query module read from the store) to the ReportData the page
 * shows: the grid of the last N runs (every attempt), device health, devices gone bad since the
 * previous run, and the trend series. Regressions and flaky checks are the history's answers
 * (harness/history/queries.ts), passed in already mapped. Pure: no I/O, so it is tested with
 * constructed rows.
 */
import type { CheckStatus, FailureClass } from '../../scenario/result.js';
import type { ModelLatency } from '../../history/metrics.js';
import { type ReportAttempt, type ReportCell, type ReportChanges, type ReportChart, type ReportData, type ReportDevice, type ReportFlaky, type ReportRow, type ReportRun } from './data.js';

/** One check result of one attempt, as recorded. */
export interface HistoryCheckRow {
  runId: string;
  device: string;
  scenario: string;
  check: string;
  status: CheckStatus;
  reason?: string;
  failureClass?: FailureClass;
  durationMs?: number;
  /** 1-based; the highest attempt of (run, device, scenario) is the verdict. */
  attempt: number;
  transcript?: string;
  imageSha?: string;
  firmware?: string;
  /** models.inference: the first-inference latency per model it reported (the history keeps them as rows). */
  latencies?: readonly ModelLatency[];
}

/** One attempt of a scenario on a device (evidence of an attempt that stopped before some checks). */
export interface HistoryAttemptRow {
  runId: string;
  device: string;
  scenario: string;
  attempt: number;
  reason?: string;
  failureClass?: FailureClass;
  transcript?: string;
}

export interface HistoryFlashRow {
  runId: string;
  device: string;
  bytes: number;
  durationMs: number;
  /** False when the board already held the image (nothing written: no throughput). */
  written: boolean;
}

/** A device as the history knows it: the page's ReportDevice without what is counted here from the rows. */
export type HistoryDeviceRow = Omit<ReportDevice, 'infraErrors' | 'attempts' | 'infraRising' | 'infraReasons'>;

export interface ReportInput {
  title?: string;
  generatedAt: string;
  hilVersion: string;
  source: string;
  /** Runs to consider (any order): the grid shows the newest `gridRuns`; flaky and trends use all. */
  runs: ReportRun[];
  checks: HistoryCheckRow[];
  attempts?: HistoryAttemptRow[];
  flashes?: HistoryFlashRow[];
  devices?: HistoryDeviceRow[];
  gridRuns: number;
  /**
   * The history's answers (harness/history/queries.ts, mapped by the query module): the newest
   * run's regressions, flaky checks, devices' link/board error trends. Absent: none shown.
   */
  regressions?: Pick<ReportChanges, 'newFailures' | 'fixed' | 'stillFailing'>;
  flaky?: ReportFlaky[];
  infra?: { device: string; rising: boolean; reasons: string[] }[];
}

const INFRA: readonly (FailureClass | undefined)[] = ['link', 'board'];
const key = (a: string, b: string, c = '', d = '', e = '') => `${a}\u0000${b}\u0000${c}\u0000${d}\u0000${e}`;
const byStart = (a: ReportRun, b: ReportRun) => Date.parse(a.startedAt) - Date.parse(b.startedAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Groups the rows of one (run, device, scenario, check) into the verdict and its earlier attempts (runs in `shown` only: the grid's). */
function cellsOf(input: ReportInput, shown: ReadonlySet<string>): Map<string, ReportCell> {
  const groups = new Map<string, HistoryCheckRow[]>();
  for (const r of input.checks) {
    if (!shown.has(r.runId)) continue;
    const k = key(r.runId, r.device, r.scenario, r.check);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  // The highest attempt per (run, device, scenario), and the evidence of every attempt.
  const lastAttempt = new Map<string, number>();
  const attemptInfo = new Map<string, HistoryAttemptRow>();
  for (const a of input.attempts ?? []) {
    if (!shown.has(a.runId)) continue;
    const k = key(a.runId, a.device, a.scenario);
    lastAttempt.set(k, Math.max(lastAttempt.get(k) ?? 0, a.attempt));
    attemptInfo.set(key(k, String(a.attempt)), a);
  }
  for (const r of input.checks) {
    if (!shown.has(r.runId)) continue;
    const k = key(r.runId, r.device, r.scenario);
    lastAttempt.set(k, Math.max(lastAttempt.get(k) ?? 0, r.attempt));
  }
  const cells = new Map<string, ReportCell>();
  for (const [k, rows] of groups) {
    rows.sort((a, b) => a.attempt - b.attempt);
    const v = rows[rows.length - 1]!;
    const sk = key(v.runId, v.device, v.scenario);
    const total = Math.max(lastAttempt.get(sk) ?? v.attempt, v.attempt);
    const earlier: ReportAttempt[] = [];
    for (let n = 1; n < v.attempt; n++) {
      const row = rows.find((r) => r.attempt === n);
      const info = attemptInfo.get(key(sk, String(n)));
      if (row) {
        earlier.push({ attempt: n, status: row.status, reason: row.reason, failureClass: row.failureClass, transcript: row.transcript ?? info?.transcript });
      } else {
        // That attempt stopped before this check gave a verdict.
        earlier.push({ attempt: n, status: 'error', reason: `attempt ${n} stopped before this check${info?.reason ? `: ${info.reason}` : ''}`, failureClass: info?.failureClass, transcript: info?.transcript });
      }
    }
    cells.set(k, {
      status: v.status, reason: v.reason, failureClass: v.failureClass, durationMs: v.durationMs, attempts: total,
      transcript: v.transcript ?? attemptInfo.get(key(sk, String(v.attempt)))?.transcript, earlier, imageSha: v.imageSha, firmware: v.firmware,
    });
  }
  return cells;
}

function changesOf(runs: ReportRun[], input: ReportInput, devices: HistoryDeviceRow[]): ReportChanges {
  const n = runs.length;
  const current = runs[n - 1];
  const previous = n >= 2 ? runs[n - 2] : undefined;
  const r = input.regressions;
  const out: ReportChanges = { current, previous, newFailures: r?.newFailures ?? [], fixed: r?.fixed ?? [], stillFailing: r?.stillFailing ?? [], devicesGoneBad: [] };
  const prevStart = previous ? Date.parse(previous.startedAt) : -Infinity;
  for (const d of devices) {
    if (d.state !== 'bad') continue;
    const since = d.since ? Date.parse(d.since) : NaN;
    // Gone bad since the previous run (or when it went bad is not known: shown rather than hidden).
    if (Number.isNaN(since) || since >= prevStart) out.devicesGoneBad.push({ device: d.name, since: d.since, reason: d.reason });
  }
  return out;
}

function chartsOf(input: ReportInput, runs: ReportRun[], finals: HistoryCheckRow[]): ReportChart[] {
  const x = runs.map((r) => Math.round(Date.parse(r.startedAt) / 1000));
  const index = new Map(runs.map((r, i) => [r.id, i]));
  const aligned = (buckets: Map<string, number[][]>, label: (k: string) => string = (k) => k) =>
    [...buckets.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, per]) => ({ label: label(k), values: per.map((xs) => median(xs)) }));
  const bucket = (m: Map<string, number[][]>, k: string, runId: string, v: number) => {
    const i = index.get(runId);
    if (i === undefined || !Number.isFinite(v)) return;
    let per = m.get(k);
    if (!per) m.set(k, (per = runs.map(() => [])));
    per[i]!.push(v);
  };
  const flash = new Map<string, number[][]>();
  for (const f of input.flashes ?? []) if (f.written && f.durationMs > 0) bucket(flash, f.device, f.runId, f.bytes / 1024 / (f.durationMs / 1000));
  const durations = new Map<string, number[][]>();
  const latency = new Map<string, number[][]>();
  for (const r of finals) {
    if (r.status === 'passed' && typeof r.durationMs === 'number') bucket(durations, `${r.scenario}/${r.check}`, r.runId, r.durationMs);
    for (const l of r.latencies ?? []) bucket(latency, l.model, r.runId, l.ms);
  }
  return [
    { id: 'flash-throughput', title: 'Flash throughput per device', unit: 'KiB/s', x, series: aligned(flash) },
    { id: 'check-durations', title: 'Check durations (median over devices, passed checks)', unit: 'ms', x, series: aligned(durations) },
    { id: 'first-inference', title: 'First-inference latency per model (median over devices)', unit: 'ms', x, series: aligned(latency) },
  ];
}

export function assembleReport(input: ReportInput): ReportData {
  const all = [...input.runs].sort(byStart);
  const shown = all.slice(Math.max(0, all.length - Math.max(1, input.gridRuns)));
  const shownIds = new Set(shown.map((r) => r.id));
  const cells = cellsOf(input, shownIds);
  // Rows: every (device, scenario, check) seen in the shown runs, sorted.
  const rowKeys = new Map<string, { device: string; scenario: string; check: string }>();
  for (const r of input.checks) if (shownIds.has(r.runId)) rowKeys.set(key(r.device, r.scenario, r.check), { device: r.device, scenario: r.scenario, check: r.check });
  const rows: ReportRow[] = [...rowKeys.values()]
    .sort((a, b) => a.device.localeCompare(b.device) || a.scenario.localeCompare(b.scenario) || a.check.localeCompare(b.check))
    .map((r) => ({ ...r, cells: shown.map((run) => cells.get(key(run.id, r.device, r.scenario, r.check)) ?? null) }));
  const deviceRows = input.devices ?? [];
  const names = new Set([...deviceRows.map((d) => d.name), ...rows.map((r) => r.device)]);
  const devices: ReportDevice[] = [...names].sort().map((name) => {
    const d = deviceRows.find((x) => x.name === name);
    // Attempts (run, scenario, attempt number) on this device in the shown runs, and those that
    // ended in a link or board error (on any of their checks).
    const attempts = new Set<string>();
    const infra = new Set<string>();
    let latest: ReportCell | undefined;
    for (const r of rows) {
      if (r.device !== name) continue;
      r.cells.forEach((c, i) => {
        if (!c) return;
        if (c.firmware) latest = c;
        const all = [...c.earlier, { attempt: c.earlier.length + 1, status: c.status, failureClass: c.failureClass }];
        for (const a of all) {
          const k = key(String(i), r.scenario, String(a.attempt));
          attempts.add(k);
          if (a.status === 'error' && INFRA.includes(a.failureClass)) infra.add(k);
        }
      });
    }
    const trend = input.infra?.find((x) => x.device === name);
    return {
      ...d, name, state: d?.state ?? 'unknown', firmware: d?.firmware ?? latest?.firmware,
      infraErrors: infra.size, attempts: attempts.size, ...(trend ? { infraRising: trend.rising, infraReasons: trend.reasons } : {}),
    };
  });
  // Final attempts of every considered run (trends use all of them).
  const top = new Map<string, HistoryCheckRow>();
  for (const r of input.checks) {
    const k = key(r.runId, r.device, r.scenario, r.check);
    const t = top.get(k);
    if (!t || r.attempt > t.attempt) top.set(k, r);
  }
  const finals = [...top.values()];
  return {
    title: input.title ?? 'hil nightly report',
    generatedAt: input.generatedAt,
    hilVersion: input.hilVersion,
    source: input.source,
    runs: shown,
    rows,
    devices,
    changes: changesOf(shown, input, deviceRows),
    flaky: input.flaky ?? [],
    charts: chartsOf(input, all, finals),
  };
}
