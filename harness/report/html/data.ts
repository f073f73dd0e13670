/**
 * What the HTML report shows, as one plain object (no database handles, no functions): the page
 * generator (render.ts) takes a ReportData and nothing else, so it is tested with constructed
 * data, and the query module (query.ts) is the only part that knows the history store.
 */
import type { CheckStatus, FailureClass } from '../../scenario/result.js';

export type DeviceState = 'ok' | 'suspect' | 'bad' | 'unknown';

export interface ReportRun {
  id: string;
  /** ISO time the run started. */
  startedAt: string;
  host?: string;
  hilVersion?: string;
  ciJob?: string;
}

/** An earlier attempt (the scenario was run again after an infrastructure error). */
export interface ReportAttempt {
  attempt: number;
  status: CheckStatus;
  reason?: string;
  failureClass?: FailureClass;
  transcript?: string;
}

/** One check on one device in one run: the verdict (last attempt) and the attempts before it. */
export interface ReportCell {
  status: CheckStatus;
  reason?: string;
  failureClass?: FailureClass;
  durationMs?: number;
  /** Attempts in all (1 when the scenario was not retried). */
  attempts: number;
  transcript?: string;
  earlier: ReportAttempt[];
  imageSha?: string;
  firmware?: string;
}

/** A row of the grid: one (device, scenario, check); `cells[i]` is its result in `runs[i]` (null: not run). */
export interface ReportRow {
  device: string;
  scenario: string;
  check: string;
  cells: (ReportCell | null)[];
}

export interface ReportDevice {
  name: string;
  state: DeviceState;
  reason?: string;
  /** ISO time the device entered its state. */
  since?: string;
  profile?: string;
  uniqueId?: string;
  firmware?: string;
  /** The latest `hil device health` of the device: passed, or the first check that did not and why. */
  lastHealth?: ReportHealthRun;
  /** In the runs shown: scenario attempts that ended in a link or board error, and attempts in all. */
  infraErrors: number;
  attempts: number;
  /** More runs with link/board errors in the later half of the window than in the earlier (the history's rule). */
  infraRising?: boolean;
  /** The latest link/board errors' reasons. */
  infraReasons?: string[];
}

/** One `hil device health` run of a device (recorded in the history as a run of kind `health`). */
export interface ReportHealthRun {
  runId: string;
  startedAt: string;
  /** passed when every check passed; else the status of the first that did not. */
  status: CheckStatus;
  /** `check: reason` of the first check that did not pass. */
  reason?: string;
  transcript?: string;
}

export interface ReportChange {
  device: string;
  scenario: string;
  check: string;
  before: CheckStatus | null;
  after: CheckStatus;
  reason?: string;
  failureClass?: FailureClass;
  transcript?: string;
  /** What differs between the two runs' inputs (`image 1a2b… -> 3c4d…`, `firmware …`, `hil …`). */
  changed: string[];
  /** Still failing: since which run, for how many runs. */
  failingSince?: { startedAt: string; runs: number };
}

export interface ReportChanges {
  current?: ReportRun;
  previous?: ReportRun;
  newFailures: ReportChange[];
  fixed: ReportChange[];
  stillFailing: ReportChange[];
  devicesGoneBad: { device: string; since?: string; reason?: string }[];
}

export interface FlakyEvidence {
  runId: string;
  startedAt: string;
  attempt?: number;
  status: CheckStatus;
  reason?: string;
  transcript?: string;
}

/** A check that both passed and failed with the same image, firmware and board. */
export interface ReportFlaky {
  device: string;
  scenario: string;
  check: string;
  imageSha?: string;
  firmware?: string;
  passed: number;
  failed: number;
  /** The runs in which it failed, newest first. */
  evidence: FlakyEvidence[];
  /** The device's link/board errors are rising: this may be the board, not the check. */
  deviceInfraRising?: boolean;
}

/** A trend chart: x in seconds since the epoch (one per run), one y array per series, aligned with x. */
export interface ReportChart {
  id: string;
  title: string;
  unit: string;
  x: number[];
  series: { label: string; values: (number | null)[] }[];
}

export interface ReportData {
  title: string;
  generatedAt: string;
  hilVersion: string;
  /** Where the history came from (a file path, or a PostgreSQL URL without its password). */
  source: string;
  /** The runs in the grid, oldest first. */
  runs: ReportRun[];
  rows: ReportRow[];
  devices: ReportDevice[];
  changes: ReportChanges;
  flaky: ReportFlaky[];
  charts: ReportChart[];
}
