/**
 * Asking the history (issue 13), as pure functions over ResultRows (so the CLI and the report
 * read the same answers):
 * - regressions: per (device, scenario, check), its latest result against its result in the
 *   previous run that ran it: new failures, fixed, still failing, each with what changed
 *   between the two runs (image, firmware, hil version, scenario files, board);
 * - flaky: checks that both passed and failed (a product failure) with the same image, firmware
 *   and board; kept apart from devices whose infrastructure errors (link, board) are rising:
 *   a dying board is not a flaky test.
 * Only the attempt each run reported counts for regressions; flakiness looks at every attempt.
 */
import type { ResultRow } from './types.js';

/** What the queries read of a result: a ResultRow, or the report's narrower VerdictRow. */
export type QueryRow = Pick<ResultRow,
  | 'runId' | 'startedAt' | 'hilVersion' | 'device' | 'scenario' | 'scenarioHash' | 'check' | 'status' | 'failureClass' | 'final' | 'attempt'
  | 'reason' | 'transcript' | 'imageSha256' | 'firmware' | 'firmwareVersion' | 'boardId'>;

export const keyOf = (r: Pick<ResultRow, 'device' | 'scenario' | 'check'>) => `${r.device}\0${r.scenario}\0${r.check}`;

/** Infrastructure errors: the link or the board, not the product. */
export const isInfra = (r: Pick<ResultRow, 'status' | 'failureClass'>) => r.status === 'error' && (r.failureClass === 'link' || r.failureClass === 'board' || r.failureClass === null);
/** A finding: a failed check, or an error that is not the link's or the board's (config, harness). */
export const isFailing = (r: Pick<ResultRow, 'status' | 'failureClass'>) => r.status === 'failed' || (r.status === 'error' && !isInfra(r));

export interface Change {
  what: 'image' | 'firmware' | 'hil' | 'scenario' | 'board';
  from: string | null;
  to: string | null;
}

export interface RegressionEntry<R extends QueryRow = ResultRow> {
  device: string;
  scenario: string;
  check: string;
  kind: 'new-failure' | 'fixed' | 'still-failing';
  /** The latest result and the one it is compared with (absent: the check is new). */
  latest: R;
  previous?: R;
  /** still-failing: the run where the current streak of failures began. */
  failingSince?: { runId: number; startedAt: string; runs: number };
  changed: Change[];
}

const short = (s: string | null) => (s && /^[0-9a-f]{16,}$/.test(s) ? s.slice(0, 12) : s);

/** What differs between the inputs of two results. */
export function changesBetween(a: QueryRow, b: QueryRow): Change[] {
  const out: Change[] = [];
  const cmp = (what: Change['what'], x: string | null, y: string | null) => {
    if (x !== y) out.push({ what, from: x, to: y });
  };
  cmp('image', a.imageSha256, b.imageSha256);
  const fw = (r: QueryRow) => (r.firmware || r.firmwareVersion ? [r.firmware, r.firmwareVersion].filter(Boolean).join(' ') : null);
  cmp('firmware', fw(a), fw(b));
  cmp('hil', a.hilVersion, b.hilVersion);
  cmp('scenario', a.scenarioHash, b.scenarioHash);
  cmp('board', a.boardId, b.boardId);
  return out;
}

export function describeChanges(c: readonly Change[]): string {
  if (c.length === 0) return 'nothing changed (same image, firmware, hil, scenario files, board)';
  return c.map((x) => `${x.what} ${short(x.from) ?? '(none)'} -> ${short(x.to) ?? '(none)'}`).join(', ');
}

/**
 * Regressions over `rows` (any order; only `final` attempts count). A key whose latest result
 * is an infrastructure error is left out: that is the device's health, not a finding.
 */
export function findRegressions<R extends QueryRow>(rows: readonly R[]): RegressionEntry<R>[] {
  const byKey = new Map<string, R[]>();
  for (const r of rows) {
    if (!r.final) continue;
    const k = keyOf(r);
    const list = byKey.get(k) ?? [];
    list.push(r);
    byKey.set(k, list);
  }
  const out: RegressionEntry<R>[] = [];
  for (const list of byKey.values()) {
    // One result per run and key (the last one the run reported), oldest run first.
    const perRun = new Map<number, R>();
    for (const r of list) perRun.set(r.runId, r);
    const seq = [...perRun.values()].sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.runId - b.runId));
    const latest = seq[seq.length - 1]!;
    if (isInfra(latest)) continue;
    // The run it is compared with: the previous one that gave a verdict (infra errors skipped).
    let i = seq.length - 2;
    while (i >= 0 && isInfra(seq[i]!)) i--;
    const previous = i >= 0 ? seq[i] : undefined;
    const nowFailing = isFailing(latest);
    const wasFailing = previous ? isFailing(previous) : false;
    const base = { device: latest.device, scenario: latest.scenario, check: latest.check, latest, previous, changed: previous ? changesBetween(previous, latest) : [] };
    if (nowFailing && !wasFailing) out.push({ ...base, kind: 'new-failure' });
    else if (!nowFailing && wasFailing && latest.status === 'passed') out.push({ ...base, kind: 'fixed' });
    else if (nowFailing && wasFailing) {
      let j = seq.length - 1;
      let runs = 0;
      let first = latest;
      for (; j >= 0; j--) {
        const r = seq[j]!;
        if (isInfra(r)) continue;
        if (!isFailing(r)) break;
        first = r;
        runs++;
      }
      out.push({ ...base, kind: 'still-failing', failingSince: { runId: first.runId, startedAt: first.startedAt, runs } });
    }
  }
  const order = { 'new-failure': 0, 'still-failing': 1, fixed: 2 } as const;
  return out.sort((a, b) => order[a.kind] - order[b.kind] || a.device.localeCompare(b.device) || a.scenario.localeCompare(b.scenario) || a.check.localeCompare(b.check));
}

export interface FlakyEntry {
  device: string;
  scenario: string;
  check: string;
  imageSha256: string | null;
  firmware: string | null;
  boardId: string | null;
  passed: number;
  failed: number;
  /** Distinct failure reasons, most frequent first. */
  reasons: string[];
  /** Each failing result's evidence (run, attempt, transcript), newest first. */
  failures: { runId: number; startedAt: string; attempt: number; reason: string | null; transcript: string | null }[];
  /** The device's infra errors are rising: this may be the board, not the test. */
  deviceInfraRising: boolean;
}

export interface DeviceInfra {
  device: string;
  /** Runs with an infrastructure error (any attempt) in the first and second half of the window. */
  earlier: number;
  later: number;
  /** Runs of the device in each half. */
  earlierRuns: number;
  laterRuns: number;
  rising: boolean;
  /** The latest infra errors' reasons, newest first (at most 3). */
  reasons: string[];
}

export interface FlakyReport {
  /** Window the answer covers (ISO-8601 UTC). */
  from: string;
  to: string;
  flaky: FlakyEntry[];
  /** Devices with any infra error in the window; `rising` ones are the ones to look at. */
  devices: DeviceInfra[];
}

/**
 * Flaky checks and device infra trends over `rows` (every attempt), between `from` and `to`
 * (default: the first and last run in rows). Rising: more runs with infra errors in the second
 * half of the window than in the first, and at least 2.
 */
export function findFlaky(rows: readonly QueryRow[], window: { from?: Date; to?: Date } = {}): FlakyReport {
  const times = rows.map((r) => r.startedAt).sort();
  const from = window.from?.toISOString() ?? times[0] ?? new Date(0).toISOString();
  const to = window.to?.toISOString() ?? times[times.length - 1] ?? from;
  const mid = new Date((Date.parse(from) + Date.parse(to)) / 2).toISOString();
  const inWindow = rows.filter((r) => r.startedAt >= from && r.startedAt <= to);

  const devices = new Map<string, { runsE: Set<number>; runsL: Set<number>; infraE: Set<number>; infraL: Set<number>; reasons: { at: string; reason: string }[] }>();
  for (const r of inWindow) {
    const d = devices.get(r.device) ?? { runsE: new Set(), runsL: new Set(), infraE: new Set(), infraL: new Set(), reasons: [] };
    const later = r.startedAt > mid;
    (later ? d.runsL : d.runsE).add(r.runId);
    if (isInfra(r)) {
      (later ? d.infraL : d.infraE).add(r.runId);
      d.reasons.push({ at: r.startedAt, reason: `${r.scenario === r.check ? r.check : `${r.scenario} ${r.check}`}: ${r.reason ?? 'error'}` });
    }
    devices.set(r.device, d);
  }
  const infra: DeviceInfra[] = [];
  for (const [device, d] of devices) {
    if (d.infraE.size + d.infraL.size === 0) continue;
    const reasons = [...new Set(d.reasons.sort((a, b) => (a.at < b.at ? 1 : -1)).map((x) => x.reason))].slice(0, 3);
    infra.push({ device, earlier: d.infraE.size, later: d.infraL.size, earlierRuns: d.runsE.size, laterRuns: d.runsL.size, rising: d.infraL.size > d.infraE.size && d.infraL.size >= 2, reasons });
  }
  infra.sort((a, b) => Number(b.rising) - Number(a.rising) || b.later - a.later || a.device.localeCompare(b.device));
  const rising = new Set(infra.filter((d) => d.rising).map((d) => d.device));

  const groups = new Map<string, QueryRow[]>();
  for (const r of inWindow) {
    if (r.status !== 'passed' && !(r.status === 'failed')) continue;
    const fw = [r.firmware, r.firmwareVersion].filter(Boolean).join(' ') || null;
    const k = `${keyOf(r)}\0${r.imageSha256}\0${fw}\0${r.boardId}`;
    const g = groups.get(k) ?? [];
    g.push(r);
    groups.set(k, g);
  }
  const flaky: FlakyEntry[] = [];
  for (const g of groups.values()) {
    const fails = g.filter((r) => r.status === 'failed');
    const passes = g.length - fails.length;
    if (fails.length === 0 || passes === 0) continue;
    const count = new Map<string, number>();
    for (const f of fails) count.set(f.reason ?? '', (count.get(f.reason ?? '') ?? 0) + 1);
    const r0 = g[0]!;
    flaky.push({
      device: r0.device, scenario: r0.scenario, check: r0.check, imageSha256: r0.imageSha256,
      firmware: [r0.firmware, r0.firmwareVersion].filter(Boolean).join(' ') || null, boardId: r0.boardId,
      passed: passes, failed: fails.length,
      reasons: [...count.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k).filter((k) => k.length > 0),
      failures: fails.slice().reverse().map((f) => ({ runId: f.runId, startedAt: f.startedAt, attempt: f.attempt, reason: f.reason, transcript: f.transcript })),
      deviceInfraRising: rising.has(r0.device),
    });
  }
  flaky.sort((a, b) => Number(a.deviceInfraRising) - Number(b.deviceInfraRising) || b.failed / (b.failed + b.passed) - a.failed / (a.failed + a.passed) || a.device.localeCompare(b.device));
  return { from, to, flaky, devices: infra };
}
