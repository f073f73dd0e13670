/**
 * The history store over either database (db.ts): records a RunResult (every attempt of every
 * scenario, every check) and reads runs, results and device states back.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Db, SqlValue } from './db.js';
import type { CheckResult, DeviceRunResult, FailureClass, RunResult, ScenarioResult } from '../scenario/result.js';
import { hashFolder, runProvenance, type RunProvenance } from './provenance.js';
import { flashColumns, inferenceLatencies, INFERENCE_CHECK } from './metrics.js';
import type { DeviceState, DeviceStateRow, ResultFilter, ResultRow, RunKind, RunRow, VerdictRow } from './types.js';

export interface RecordOptions {
  /** Default: this process's (hil version, host, CI job from the environment). */
  provenance?: RunProvenance;
  /** `run` (default: hil run) or `health` (hil device health: shown apart by the report). */
  kind?: RunKind;
  /** Hash of a scenario folder (default provenance.ts hashFolder, memoised per call). */
  scenarioHash?: (dir: string) => string | null;
}

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
const parse = <T>(v: unknown, dflt: T): T => {
  if (typeof v !== 'string') return dflt;
  try {
    return JSON.parse(v) as T;
  } catch {
    return dflt;
  }
};
const num = (v: unknown): number => Number(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** A failure class for a result or error that was made without one (older producers, custom checks). */
export function defaultClass(status: string, exitCode?: number): FailureClass | null {
  if (status === 'failed') return 'product';
  if (status !== 'error') return null;
  if (exitCode === 2) return 'config';
  return 'board';
}

const ATTEMPT_COLUMNS = [
  'run_id', 'seq', 'device', 'connection', 'simulated', 'scenario', 'scenario_path', 'scenario_hash', 'attempt', 'final',
  'profile', 'firmware', 'firmware_version', 'board_id', 'board_key', 'image_sha256', 'image_source', 'flash', 'error',
  'reason', 'failure_class', 'transcript', 'duration_ms', 'flash_ms', 'flash_written',
] as const;
const RESULT_COLUMNS = ['run_id', 'attempt_seq', 'seq', 'check_name', 'status', 'failure_class', 'reason', 'duration_ms', 'details', 'data'] as const;
const LATENCY_COLUMNS = ['run_id', 'attempt_seq', 'seq', 'idx', 'model', 'ms'] as const;

/** The device's final transcript file (hil run --out), when one was written. */
function deviceTranscript(d: DeviceRunResult): string | null {
  return d.files?.find((f) => /(^|[\\/])transcript\.txt$/.test(f)) ?? null;
}

function firmwareVersion(d: DeviceRunResult): string | null {
  const id = d.identity;
  if (!id) return null;
  return id.uname?.version ?? id.implementation.version ?? null;
}

interface Flat {
  images: SqlValue[][];
  boards: SqlValue[][];
  attempts: SqlValue[][];
  results: SqlValue[][];
  latencies: SqlValue[][];
}

/** The rows one run adds (run_id left as a placeholder, set once the run row has its id). */
function flatten(run: RunResult, hashOf: (dir: string) => string | null): Flat {
  const out: Flat = { images: [], boards: [], attempts: [], results: [], latencies: [] };
  const seenImages = new Set<string>();
  const seenBoards = new Set<string>();
  let attemptSeq = 0;
  const addChecks = (seq: number, checks: readonly CheckResult[]) => {
    checks.forEach((c, i) => {
      out.results.push([0, seq, i, c.name, c.status, c.failureClass ?? defaultClass(c.status, (c.data as { exitCode?: number } | undefined)?.exitCode), c.reason ?? null, c.durationMs, json(c.details?.length ? c.details : null), json(c.data)]);
      if (c.name === INFERENCE_CHECK) inferenceLatencies(c.data).forEach((l, k) => out.latencies.push([0, seq, i, k, l.model, l.ms]));
    });
  };
  for (const d of run.devices) {
    let boardKey: string | null = null;
    if (d.identity) {
      const identity = JSON.stringify(d.identity);
      boardKey = createHash('sha256').update(identity).digest('hex').slice(0, 32);
      if (!seenBoards.has(boardKey)) {
        seenBoards.add(boardKey);
        out.boards.push([boardKey, identity]);
      }
    }
    const common = {
      device: d.device, connection: d.connection, simulated: d.simulated ? 1 : 0, profile: d.profile,
      firmware: d.firmware ? `${d.firmware.port}/${d.firmware.api}` : null, firmwareVersion: firmwareVersion(d),
      boardId: d.identity?.uniqueId ?? null,
    };
    const attemptRow = (s: { scenario: string; path: string | null; hash: string | null }, attempt: number, final: boolean, extra: {
      image?: ScenarioResult['image']; flash?: unknown; error?: unknown; reason?: string | null; failureClass?: FailureClass | null; transcript?: string | null; durationMs: number;
    }): number => {
      const seq = attemptSeq++;
      const flash = flashColumns(extra.flash);
      out.attempts.push([
        0, seq, common.device, common.connection, common.simulated, s.scenario, s.path, s.hash, attempt, final ? 1 : 0,
        common.profile, common.firmware, common.firmwareVersion, common.boardId, boardKey,
        extra.image?.sha256 ?? null, extra.image?.source ?? null, json(extra.flash), json(extra.error),
        // Absolute: the report links to it from wherever it is written.
        extra.reason ?? null, extra.failureClass ?? null, extra.transcript ? resolve(extra.transcript) : null, extra.durationMs,
        flash.ms, flash.written,
      ]);
      return seq;
    };
    if (d.error && d.scenarios.length === 0) {
      // Never reached: one row so the device's outage is in the history too.
      const seq = attemptRow({ scenario: '(device)', path: null, hash: null }, 1, true, { error: d.error, reason: d.error.message, failureClass: d.error.failureClass ?? defaultClass('error', d.error.exitCode), transcript: deviceTranscript(d), durationMs: d.durationMs });
      addChecks(seq, [{ name: '(device)', status: 'error', reason: d.error.phase ? `${d.error.message} [phase: ${d.error.phase}]` : d.error.message, durationMs: d.durationMs, details: [], failureClass: d.error.failureClass ?? defaultClass('error', d.error.exitCode) ?? undefined }]);
      continue;
    }
    for (const s of d.scenarios) {
      if (s.image && !seenImages.has(s.image.sha256)) {
        seenImages.add(s.image.sha256);
        out.images.push([s.image.sha256, s.image.bytes, json(s.image.fileSha256 ?? null)]);
      }
      const where = { scenario: s.scenario, path: s.path ?? null, hash: s.path ? hashOf(s.path) : null };
      const prev = s.previousAttempts ?? [];
      for (const p of prev) {
        const seq = attemptRow(where, p.attempt, false, { image: s.image, error: p.error, reason: p.reason, failureClass: p.failureClass ?? null, transcript: p.transcript ?? null, durationMs: p.durationMs });
        addChecks(seq, withScenarioError(p.checks, p.error));
      }
      const attempt = s.attempts ?? prev.length + 1;
      const seq = attemptRow(where, attempt, true, {
        image: s.image, flash: s.flash, error: s.error, reason: null, failureClass: s.error ? s.error.failureClass ?? defaultClass('error', s.error.exitCode) : null,
        transcript: deviceTranscript(d), durationMs: s.durationMs,
      });
      addChecks(seq, withScenarioError(s.checks, s.error));
    }
  }
  return out;
}

/** A scenario that stopped on an error gets a `(scenario)` row: the history must show it. */
function withScenarioError(checks: readonly CheckResult[], error: ScenarioResult['error']): CheckResult[] {
  if (!error) return [...checks];
  const reason = error.phase ? `${error.message} [phase: ${error.phase}]` : error.message;
  return [...checks, { name: '(scenario)', status: 'error', reason, durationMs: 0, details: [], failureClass: error.failureClass ?? defaultClass('error', error.exitCode) ?? undefined, data: { exitCode: error.exitCode, phase: error.phase } }];
}

const RESULT_SELECT = `SELECT r.id AS run_id, r.started_at, r.hil_version, r.host, r.ci,
  a.device, a.connection, a.simulated, a.scenario, a.scenario_path, a.scenario_hash, a.attempt, a.final,
  a.reason AS attempt_reason, a.failure_class AS attempt_class, a.transcript, a.profile, a.firmware, a.firmware_version,
  a.board_id, b.identity, a.image_sha256, a.image_source, i.bytes AS image_bytes, a.flash,
  x.check_name, x.status, x.failure_class, x.reason, x.duration_ms, x.details, x.data
FROM hil_results x
JOIN hil_attempts a ON a.run_id = x.run_id AND a.seq = x.attempt_seq
JOIN hil_runs r ON r.id = x.run_id
LEFT JOIN hil_boards b ON b.key = a.board_key
LEFT JOIN hil_images i ON i.sha256 = a.image_sha256`;

function toResultRow(r: Record<string, unknown>): ResultRow {
  return {
    runId: num(r.run_id), startedAt: String(r.started_at), hilVersion: String(r.hil_version), host: String(r.host), ci: parse(r.ci, null),
    device: String(r.device), connection: strOrNull(r.connection), simulated: num(r.simulated) === 1,
    scenario: String(r.scenario), scenarioPath: strOrNull(r.scenario_path), scenarioHash: strOrNull(r.scenario_hash),
    attempt: num(r.attempt), final: num(r.final) === 1, attemptReason: strOrNull(r.attempt_reason),
    attemptFailureClass: strOrNull(r.attempt_class) as FailureClass | null, transcript: strOrNull(r.transcript),
    profile: strOrNull(r.profile), firmware: strOrNull(r.firmware), firmwareVersion: strOrNull(r.firmware_version),
    boardId: strOrNull(r.board_id), identity: parse(r.identity, null), imageSha256: strOrNull(r.image_sha256), imageSource: strOrNull(r.image_source),
    imageBytes: r.image_bytes === null || r.image_bytes === undefined ? null : num(r.image_bytes), flash: parse(r.flash, null),
    check: String(r.check_name), status: String(r.status) as ResultRow['status'], failureClass: strOrNull(r.failure_class) as FailureClass | null,
    reason: strOrNull(r.reason), durationMs: num(r.duration_ms), details: parse(r.details, [] as string[]), data: parse(r.data, null),
  };
}

export class HistoryStore {
  constructor(
    private readonly db: Db,
    /** Where the history is (file path, or the postgres:// URL without its password). */
    readonly location: string,
  ) {}

  get kind(): 'sqlite' | 'postgres' {
    return this.db.kind;
  }

  /** Records one run: every device, scenario, attempt (earlier ones included) and check. Returns the run's id. */
  async recordRun(run: RunResult, opts: RecordOptions = {}): Promise<number> {
    const prov = opts.provenance ?? runProvenance();
    const memo = new Map<string, string | null>();
    const hashOf = (dir: string) => {
      if (!memo.has(dir)) memo.set(dir, (opts.scenarioHash ?? hashFolder)(dir));
      return memo.get(dir)!;
    };
    // Files are read before the transaction: the write lock is held only while writing.
    const flat = flatten(run, hashOf);
    return this.db.tx(async () => {
      const id = await this.db.insertId(
        'INSERT INTO hil_runs (started_at, duration_ms, exit_code, counts, hil_version, host, ci, notes, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [run.startedAt, run.durationMs, run.exitCode, JSON.stringify(run.counts), prov.hilVersion, prov.host, json(prov.ci), json(run.notes.length ? run.notes : null), opts.kind ?? 'run'],
      );
      await this.db.insertMany('hil_images', ['sha256', 'bytes', 'files'], flat.images, 'ON CONFLICT (sha256) DO NOTHING');
      await this.db.insertMany('hil_boards', ['key', 'identity'], flat.boards, 'ON CONFLICT (key) DO NOTHING');
      for (const a of flat.attempts) a[0] = id;
      for (const r of flat.results) r[0] = id;
      for (const l of flat.latencies) l[0] = id;
      await this.db.insertMany('hil_attempts', ATTEMPT_COLUMNS, flat.attempts);
      await this.db.insertMany('hil_results', RESULT_COLUMNS, flat.results);
      await this.db.insertMany('hil_latencies', LATENCY_COLUMNS, flat.latencies);
      return id;
    });
  }

  /** The most recent runs first, narrowed by device, scenario and start time. */
  async recentRuns(opts: { limit?: number; device?: string; scenario?: string; since?: Date; kind?: RunKind } = {}): Promise<RunRow[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (opts.kind) (where.push('r.kind = ?'), params.push(opts.kind));
    if (opts.since) {
      where.push('r.started_at >= ?');
      params.push(opts.since.toISOString());
    }
    if (opts.device !== undefined || opts.scenario !== undefined) {
      const sub = ['a.run_id = r.id'];
      if (opts.device !== undefined) (sub.push('a.device = ?'), params.push(opts.device));
      if (opts.scenario !== undefined) (sub.push('a.scenario = ?'), params.push(opts.scenario));
      where.push(`EXISTS (SELECT 1 FROM hil_attempts a WHERE ${sub.join(' AND ')})`);
    }
    params.push(Math.max(1, Math.floor(opts.limit ?? 50)));
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT r.* FROM hil_runs r ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.started_at DESC, r.id DESC LIMIT ?`,
      params,
    );
    if (rows.length === 0) return [];
    const ids = rows.map((r) => num(r.id));
    const touched = await this.db.all<{ run_id: unknown; device: string; scenario: string }>(
      `SELECT DISTINCT run_id, device, scenario FROM hil_attempts WHERE run_id IN (${ids.map(() => '?').join(', ')})`,
      ids,
    );
    const by = new Map<number, { devices: Set<string>; scenarios: Set<string> }>();
    for (const t of touched) {
      const k = num(t.run_id);
      const e = by.get(k) ?? { devices: new Set<string>(), scenarios: new Set<string>() };
      e.devices.add(t.device);
      if (t.scenario !== '(device)') e.scenarios.add(t.scenario);
      by.set(k, e);
    }
    return rows.map((r) => ({
      id: num(r.id), startedAt: String(r.started_at), durationMs: num(r.duration_ms), exitCode: num(r.exit_code),
      counts: parse(r.counts, { passed: 0, failed: 0, skipped: 0, simulated: 0, error: 0, total: 0 }),
      hilVersion: String(r.hil_version), host: String(r.host), ci: parse(r.ci, null), notes: parse(r.notes, [] as string[]), kind: String(r.kind ?? 'run') as RunKind,
      devices: [...(by.get(num(r.id))?.devices ?? [])].sort(), scenarios: [...(by.get(num(r.id))?.scenarios ?? [])].sort(),
    }));
  }

  /** Check results (every attempt unless finalOnly) oldest run first, in the order they were made. */
  async results(filter: ResultFilter = {}): Promise<ResultRow[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.runIds) {
      if (filter.runIds.length === 0) return [];
      where.push(`x.run_id IN (${filter.runIds.map(() => '?').join(', ')})`);
      params.push(...filter.runIds);
    }
    if (filter.since) (where.push('r.started_at >= ?'), params.push(filter.since.toISOString()));
    if (filter.device !== undefined) (where.push('a.device = ?'), params.push(filter.device));
    if (filter.scenario !== undefined) (where.push('a.scenario = ?'), params.push(filter.scenario));
    if (filter.finalOnly) where.push('a.final = 1');
    const rows = await this.db.all<Record<string, unknown>>(
      `${RESULT_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.started_at, r.id, x.attempt_seq, x.seq`,
      params,
    );
    return rows.map(toResultRow);
  }

  /** Every result (every attempt) of these runs: what the report draws its grid from. */
  resultsForRuns(runIds: readonly number[], filter: Omit<ResultFilter, 'runIds'> = {}): Promise<ResultRow[]> {
    return this.results({ ...filter, runIds });
  }

  /**
   * What the report reads: every attempt's check verdicts of these runs (oldest run first, in the
   * order they were made), with their attempt's provenance, flash figures and latencies, and
   * nothing that needs a JSON parse (no identity, details, data or flash summary). Read as four
   * narrow statements (runs, attempts, results, latencies) joined here: a result row holds only
   * its own columns.
   */
  async verdicts(runIds: readonly number[], filter: Pick<ResultFilter, 'device' | 'scenario' | 'finalOnly'> = {}): Promise<VerdictRow[]> {
    if (runIds.length === 0) return [];
    const ids = [...new Set(runIds)];
    const inList = `(${ids.map(() => '?').join(', ')})`;
    // Oldest run first (as results()): by start time, then id.
    const runs = (await this.db.rows(`SELECT id, started_at, hil_version FROM hil_runs WHERE id IN ${inList}`, ids))
      .map(([id, startedAt, hilVersion]) => ({ id: num(id), startedAt: String(startedAt), hilVersion: String(hilVersion) }))
      .sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id - b.id));
    const runOf = new Map(runs.map((r) => [r.id, r]));
    const aw: string[] = [`run_id IN ${inList}`];
    const ap: SqlValue[] = [...ids];
    if (filter.device !== undefined) (aw.push('device = ?'), ap.push(filter.device));
    if (filter.scenario !== undefined) (aw.push('scenario = ?'), ap.push(filter.scenario));
    if (filter.finalOnly) aw.push('final = 1');
    const attempts = await this.db.rows(
      `SELECT run_id, seq, device, scenario, scenario_hash, attempt, final, reason, failure_class, transcript, profile, firmware, firmware_version, board_id, image_sha256, flash_ms, flash_written
       FROM hil_attempts WHERE ${aw.join(' AND ')}`,
      ap,
    );
    if (attempts.length === 0) return [];
    const shas = [...new Set(attempts.map((a) => a[14]).filter((x): x is string => typeof x === 'string'))];
    const bytes = new Map<string, number>();
    if (shas.length) {
      for (const [sha, b] of await this.db.rows(`SELECT sha256, bytes FROM hil_images WHERE sha256 IN (${shas.map(() => '?').join(', ')})`, shas)) {
        if (b !== null && b !== undefined) bytes.set(String(sha), num(b));
      }
    }
    // An attempt's key: run id and attempt sequence number as one number (exact below 9e9 runs).
    const ak = (run: unknown, seq: unknown) => num(run) * 1_000_000 + num(seq);
    const lk = (k: number, seq: unknown) => `${k}/${num(seq)}`;
    const lat = new Map<string, { model: string; ms: number }[]>();
    for (const [run, aseq, seq, model, ms] of await this.db.rows(`SELECT run_id, attempt_seq, seq, model, ms FROM hil_latencies WHERE run_id IN ${inList} ORDER BY run_id, attempt_seq, seq, idx`, ids)) {
      const k = lk(ak(run, aseq), seq);
      let list = lat.get(k);
      if (!list) lat.set(k, (list = []));
      list.push({ model: String(model), ms: num(ms) });
    }
    type Attempt = Omit<VerdictRow, 'check' | 'status' | 'failureClass' | 'reason' | 'durationMs' | 'latencies'>;
    const base = new Map<number, Attempt>();
    for (const a of attempts) {
      const runId = num(a[0]);
      const run = runOf.get(runId);
      if (!run) continue;
      const sha = strOrNull(a[14]);
      base.set(ak(a[0], a[1]), {
        runId, startedAt: run.startedAt, hilVersion: run.hilVersion, device: String(a[2]), scenario: String(a[3]), scenarioHash: strOrNull(a[4]),
        attempt: num(a[5]), final: num(a[6]) === 1, attemptReason: strOrNull(a[7]), attemptFailureClass: strOrNull(a[8]) as FailureClass | null,
        transcript: strOrNull(a[9]), profile: strOrNull(a[10]), firmware: strOrNull(a[11]), firmwareVersion: strOrNull(a[12]),
        boardId: strOrNull(a[13]), imageSha256: sha, imageBytes: sha === null ? null : bytes.get(sha) ?? null,
        flashMs: a[15] === null || a[15] === undefined ? null : num(a[15]), flashWritten: a[16] === null || a[16] === undefined ? null : num(a[16]) === 1,
      });
    }
    const NONE: { model: string; ms: number }[] = [];
    const byRun = new Map<number, VerdictRow[]>(runs.map((r) => [r.id, []]));
    for (const [run, aseq, seq, check, status, cls, reason, ms] of await this.db.rows(
      `SELECT run_id, attempt_seq, seq, check_name, status, failure_class, reason, duration_ms FROM hil_results WHERE run_id IN ${inList} ORDER BY run_id, attempt_seq, seq`,
      ids,
    )) {
      const k = ak(run, aseq);
      const b = base.get(k);
      if (!b) continue; // an attempt the filter left out
      byRun.get(b.runId)!.push({
        runId: b.runId, startedAt: b.startedAt, hilVersion: b.hilVersion, device: b.device, scenario: b.scenario, scenarioHash: b.scenarioHash,
        attempt: b.attempt, final: b.final, attemptReason: b.attemptReason, attemptFailureClass: b.attemptFailureClass, transcript: b.transcript,
        profile: b.profile, firmware: b.firmware, firmwareVersion: b.firmwareVersion, boardId: b.boardId, imageSha256: b.imageSha256, imageBytes: b.imageBytes,
        flashMs: b.flashMs, flashWritten: b.flashWritten,
        check: String(check), status: String(status) as VerdictRow['status'], failureClass: strOrNull(cls) as FailureClass | null,
        reason: strOrNull(reason), durationMs: num(ms), latencies: (lat.size && lat.get(lk(k, seq))) || NONE,
      });
    }
    return runs.flatMap((r) => byRun.get(r.id)!);
  }

  /** Per-file sha256 of an image, as recorded (null: image not recorded or without file list). */
  async imageFiles(sha256: string): Promise<Record<string, string> | null> {
    const rows = await this.db.all<{ files: unknown }>('SELECT files FROM hil_images WHERE sha256 = ?', [sha256]);
    return rows.length ? parse(rows[0]!.files, null) : null;
  }

  /**
   * The health state that applies to bench name `device` before its board is known: the newest
   * record written under that name (a board's, or the name's own while no board was identified).
   */
  async getDeviceState(device: string): Promise<DeviceStateRow | undefined> {
    const rows = await this.db.all<Record<string, unknown>>('SELECT * FROM hil_health WHERE device = ? ORDER BY written DESC, updated_at DESC LIMIT 1', [device]);
    return rows.length ? toStateRow(rows[0]!) : undefined;
  }

  /** The health state of the board with this unique id (wherever it was seen). */
  async getBoardState(boardId: string): Promise<DeviceStateRow | undefined> {
    const rows = await this.db.all<Record<string, unknown>>('SELECT * FROM hil_health WHERE key = ?', [`board:${boardId}`]);
    return rows.length ? toStateRow(rows[0]!) : undefined;
  }

  /**
   * Sets (inserts or replaces) a health state: the board's (`s.boardId`, labelled `device`), else
   * the bench name's own. Once a board's state is written under a name, the name's own record
   * (kept while no board was identified there) is gone: the board is known.
   */
  async setDeviceState(device: string, s: DeviceState): Promise<void> {
    if (!['ok', 'suspect', 'bad'].includes(s.state)) throw new TypeError(`device state must be ok, suspect or bad (got ${JSON.stringify(s.state)})`);
    const boardId = s.boardId ?? null;
    const key = boardId !== null ? `board:${boardId}` : `name:${device}`;
    await this.db.tx(async () => {
      await this.db.run(
        `INSERT INTO hil_health (key, device, board_id, state, reason, since, consecutive_failures, updated_at, written)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT COALESCE(MAX(written), 0) + 1 FROM hil_health))
         ON CONFLICT (key) DO UPDATE SET device = excluded.device, state = excluded.state, reason = excluded.reason, since = excluded.since,
         consecutive_failures = excluded.consecutive_failures, updated_at = excluded.updated_at, written = excluded.written`,
        [key, device, boardId, s.state, s.reason ?? null, s.since, Math.max(0, Math.floor(s.consecutiveFailures)), new Date().toISOString()],
      );
      if (boardId !== null) await this.db.run('DELETE FROM hil_health WHERE key = ?', [`name:${device}`]);
    });
  }

  /** The state that applies to each bench name (the newest record under it), by name. */
  async listDeviceStates(): Promise<DeviceStateRow[]> {
    const rows = await this.db.all<Record<string, unknown>>('SELECT * FROM hil_health ORDER BY device, written DESC, updated_at DESC');
    const out: DeviceStateRow[] = [];
    for (const r of rows) if (out[out.length - 1]?.device !== String(r.device)) out.push(toStateRow(r));
    return out;
  }

  /** Rows per table (tests, `npm run bench`). */
  async counts(): Promise<Record<'runs' | 'attempts' | 'results', number>> {
    const one = async (t: string) => num((await this.db.all<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${t}`))[0]?.n ?? 0);
    return { runs: await one('hil_runs'), attempts: await one('hil_attempts'), results: await one('hil_results') };
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

function toStateRow(r: Record<string, unknown>): DeviceStateRow {
  return {
    device: String(r.device), boardId: strOrNull(r.board_id), state: String(r.state) as DeviceStateRow['state'], reason: strOrNull(r.reason), since: String(r.since),
    consecutiveFailures: num(r.consecutive_failures), updatedAt: String(r.updated_at),
  };
}
