/** Row types the history store returns (its read API: harness/history/index.ts). */
import type { BoardIdentity } from '../device/identify.js';
import type { CheckStatus, FailureClass, FlashSummary, RunCounts } from '../scenario/result.js';
import type { CiJob } from './provenance.js';

/** `run`: a `hil run`; `health`: a `hil device health` (the report keeps it out of the grid). */
export type RunKind = 'run' | 'health';

/** One recorded `hil run` (or `hil device health`). */
export interface RunRow {
  id: number;
  kind: RunKind;
  /** ISO-8601 UTC. */
  startedAt: string;
  durationMs: number;
  exitCode: number;
  counts: RunCounts;
  hilVersion: string;
  host: string;
  ci: CiJob | null;
  notes: string[];
  /** Devices and scenarios the run touched (sorted, distinct). */
  devices: string[];
  scenarios: string[];
}

/** One check result of one attempt, with its attempt's and run's provenance. */
export interface ResultRow {
  runId: number;
  /** The run's start (ISO-8601 UTC). */
  startedAt: string;
  hilVersion: string;
  host: string;
  ci: CiJob | null;
  device: string;
  connection: string | null;
  simulated: boolean;
  scenario: string;
  scenarioPath: string | null;
  /** sha256 over the scenario folder's files (provenance.ts hashFolder). */
  scenarioHash: string | null;
  /** 1-based attempt number; `final` is the attempt whose result the run reported. */
  attempt: number;
  final: boolean;
  /** Why this attempt was not the final one (retried after it), as AttemptEvidence.reason. */
  attemptReason: string | null;
  attemptFailureClass: FailureClass | null;
  /** The transcript file of this attempt (when one was written: `hil run --out`). */
  transcript: string | null;
  profile: string | null;
  /** Firmware personality `port/api` (e.g. `stm32/released`). */
  firmware: string | null;
  /** The firmware's own version: os.uname().version, else sys.implementation's version. */
  firmwareVersion: string | null;
  /** machine.unique_id() in hex (null where the port has none). */
  boardId: string | null;
  identity: BoardIdentity | null;
  imageSha256: string | null;
  imageSource: string | null;
  /** The image's size in bytes (as recorded with it). */
  imageBytes: number | null;
  /** The attempt's flash summary (null: not flashed in this attempt, or an earlier attempt). */
  flash: FlashSummary | null;
  /** The check (`listing`, `imports`, `models.placement`...; `(scenario)` for a scenario that stopped before its checks, `(device)` for a device that was never reached). */
  check: string;
  status: CheckStatus;
  failureClass: FailureClass | null;
  reason: string | null;
  durationMs: number;
  details: string[];
  data: unknown;
}

/**
 * A check verdict as the report reads it (HistoryStore.verdicts): a ResultRow's own columns and its
 * attempt's, with the flash figures and per-model latencies kept as columns, and none of the
 * evidence that would need a JSON parse (identity, details, data, the flash summary, CI job).
 */
export interface VerdictRow extends Pick<ResultRow,
  | 'runId' | 'startedAt' | 'hilVersion' | 'device' | 'scenario' | 'scenarioHash' | 'attempt' | 'final' | 'attemptReason' | 'attemptFailureClass'
  | 'transcript' | 'profile' | 'firmware' | 'firmwareVersion' | 'boardId' | 'imageSha256' | 'imageBytes' | 'check' | 'status' | 'failureClass' | 'reason' | 'durationMs'> {
  /** The attempt's flash: how long it took (ms) and whether it wrote the image (null: not flashed). */
  flashMs: number | null;
  flashWritten: boolean | null;
  /** models.inference: first-inference latency per model, as the result reported it. */
  latencies: { model: string; ms: number }[];
}

export type DeviceHealthState = 'ok' | 'suspect' | 'bad';

/** A bench device's health (written by harness/health), per board when its unique id is known. */
export interface DeviceState {
  state: DeviceHealthState;
  reason: string | null;
  /** Since when the device is in this state (ISO-8601 UTC). */
  since: string;
  consecutiveFailures: number;
  /** The board's unique id: its state follows the board (absent/null: the bench name's own, board not identified). */
  boardId?: string | null;
}

export interface DeviceStateRow extends DeviceState {
  /** The bench name the state was last written under. */
  device: string;
  boardId: string | null;
  /** When it was last written (ISO-8601 UTC). */
  updatedAt: string;
}

/** Which results to read; every field narrows. */
export interface ResultFilter {
  runIds?: readonly number[];
  /** Runs started at or after this time. */
  since?: Date;
  device?: string;
  scenario?: string;
  /** Only the attempt each run reported (default false: every attempt). */
  finalOnly?: boolean;
}
