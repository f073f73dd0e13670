/**
 * The history schema, one for SQLite and PostgreSQL, as numbered migrations applied in order on
 * first use (each in its own transaction; `hil_schema` records which ran). A database whose
 * schema is newer than this hil knows is not written to.
 *
 * Tables (all prefixed `hil_`, so a shared PostgreSQL database can hold other things too):
 * - hil_runs: one `hil run` (start time, duration, exit code, counts; hil version, host, CI job).
 * - hil_attempts: one attempt of one scenario on one device in a run (run_id, seq): scenario name,
 *   folder and folder hash, attempt number and whether it is the final one, profile, firmware
 *   personality, the board's unique id and firmware version, identity (hil_boards), image sha256
 *   (hil_images), flash summary, scenario error, why it was retried, transcript file.
 * - hil_results: one check result of one attempt: name, status, failure class, reason, duration,
 *   details and data (JSON).
 * - hil_images: an image's sha256, size and per-file sha256 (written once per image).
 * - hil_boards: a board identity (sys.implementation, os.uname(), segments, unique id) by hash.
 * - hil_latencies (v2): the first-inference latency per model of a models.inference result, so
 *   trends are read without parsing any result's data.
 * - hil_health (v3): ok / suspect / bad per board (key `board:<unique id>` when known, else
 *   `name:<bench name>` while no board has been identified under that name), labelled with the
 *   bench name it was last written under, with reason, since when, and a write counter (the
 *   newest record of a name is the one that applies to it). v1's hil_device_states, keyed by
 *   bench name, is moved in as `name:` records.
 * v2 also adds hil_runs.kind (`run`, or `health` for `hil device health`) and the flash duration
 * and written flag of each attempt as columns (hil_attempts.flash_ms, flash_written).
 */
import type { Db } from './db.js';
import { HilError, ExitCode } from '../errors.js';
import { flashColumns, inferenceLatencies, INFERENCE_CHECK } from './metrics.js';

export interface Migration {
  version: number;
  describe: string;
  /** DDL; `{{ID}}` is the auto-numbered primary key of the dialect. */
  sql: string;
  /** Fills what the DDL added from what earlier versions recorded (same transaction). */
  backfill?: (db: Db) => Promise<void>;
}

/** v2's columns and table from what v1 recorded (flash summaries and results' data, as JSON). */
async function backfillV2(db: Db): Promise<void> {
  const parse = (v: unknown): unknown => {
    try {
      return typeof v === 'string' ? JSON.parse(v) : null;
    } catch {
      return null;
    }
  };
  const flashed = await db.all<{ run_id: unknown; seq: unknown; flash: unknown }>('SELECT run_id, seq, flash FROM hil_attempts WHERE flash IS NOT NULL');
  for (const a of flashed) {
    const f = flashColumns(parse(a.flash));
    if (f.ms !== null || f.written !== null) await db.run('UPDATE hil_attempts SET flash_ms = ?, flash_written = ? WHERE run_id = ? AND seq = ?', [f.ms, f.written, Number(a.run_id), Number(a.seq)]);
  }
  const inference = await db.all<{ run_id: unknown; attempt_seq: unknown; seq: unknown; data: unknown }>('SELECT run_id, attempt_seq, seq, data FROM hil_results WHERE check_name = ? AND data IS NOT NULL', [INFERENCE_CHECK]);
  const rows = inference.flatMap((r) => inferenceLatencies(parse(r.data)).map((l, i) => [Number(r.run_id), Number(r.attempt_seq), Number(r.seq), i, l.model, l.ms]));
  await db.insertMany('hil_latencies', ['run_id', 'attempt_seq', 'seq', 'idx', 'model', 'ms'], rows);
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    describe: 'runs, attempts, results, images, boards, device states',
    sql: `
CREATE TABLE hil_runs (
  id {{ID}},
  started_at TEXT NOT NULL,
  duration_ms DOUBLE PRECISION NOT NULL,
  exit_code INTEGER NOT NULL,
  counts TEXT NOT NULL,
  hil_version TEXT NOT NULL,
  host TEXT NOT NULL,
  ci TEXT,
  notes TEXT
);
CREATE INDEX hil_runs_started ON hil_runs (started_at);
CREATE TABLE hil_images (
  sha256 TEXT PRIMARY KEY,
  bytes INTEGER,
  files TEXT
);
CREATE TABLE hil_boards (
  key TEXT PRIMARY KEY,
  identity TEXT NOT NULL
);
CREATE TABLE hil_attempts (
  run_id BIGINT NOT NULL REFERENCES hil_runs (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  device TEXT NOT NULL,
  connection TEXT,
  simulated INTEGER NOT NULL,
  scenario TEXT NOT NULL,
  scenario_path TEXT,
  scenario_hash TEXT,
  attempt INTEGER NOT NULL,
  final INTEGER NOT NULL,
  profile TEXT,
  firmware TEXT,
  firmware_version TEXT,
  board_id TEXT,
  board_key TEXT REFERENCES hil_boards (key),
  image_sha256 TEXT REFERENCES hil_images (sha256),
  image_source TEXT,
  flash TEXT,
  error TEXT,
  reason TEXT,
  failure_class TEXT,
  transcript TEXT,
  duration_ms DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX hil_attempts_key ON hil_attempts (device, scenario);
CREATE TABLE hil_results (
  run_id BIGINT NOT NULL,
  attempt_seq INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  check_name TEXT NOT NULL,
  status TEXT NOT NULL,
  failure_class TEXT,
  reason TEXT,
  duration_ms DOUBLE PRECISION NOT NULL,
  details TEXT,
  data TEXT,
  PRIMARY KEY (run_id, attempt_seq, seq),
  FOREIGN KEY (run_id, attempt_seq) REFERENCES hil_attempts (run_id, seq) ON DELETE CASCADE
);
CREATE TABLE hil_device_states (
  device TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  reason TEXT,
  since TEXT NOT NULL,
  consecutive_failures INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    describe: 'run kind; flash duration and written flag per attempt; first-inference latency per model',
    sql: `
ALTER TABLE hil_runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'run';
ALTER TABLE hil_attempts ADD COLUMN flash_ms DOUBLE PRECISION;
ALTER TABLE hil_attempts ADD COLUMN flash_written INTEGER;
CREATE TABLE hil_latencies (
  run_id BIGINT NOT NULL,
  attempt_seq INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  model TEXT NOT NULL,
  ms DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (run_id, attempt_seq, seq, idx),
  FOREIGN KEY (run_id, attempt_seq, seq) REFERENCES hil_results (run_id, attempt_seq, seq) ON DELETE CASCADE
);
`,
    backfill: backfillV2,
  },
  {
    version: 3,
    describe: 'health states per board (unique id), labelled with the bench name',
    sql: `
CREATE TABLE hil_health (
  key TEXT PRIMARY KEY,
  device TEXT NOT NULL,
  board_id TEXT,
  state TEXT NOT NULL,
  reason TEXT,
  since TEXT NOT NULL,
  consecutive_failures INTEGER NOT NULL,
  updated_at TEXT NOT NULL,
  written BIGINT NOT NULL
);
CREATE INDEX hil_health_device ON hil_health (device, written);
INSERT INTO hil_health (key, device, board_id, state, reason, since, consecutive_failures, updated_at, written)
  SELECT 'name:' || device, device, NULL, state, reason, since, consecutive_failures, updated_at, 0 FROM hil_device_states;
DROP TABLE hil_device_states;
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The history's schema is newer than this hil: it is left alone (exit code of a run unchanged). */
export class HistorySchemaError extends HilError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}

/** Arbitrary constant for PostgreSQL's advisory lock around migrations ("hil1"). */
const MIGRATION_LOCK = 0x68696c31;

function dialect(db: Db, sql: string): string {
  return sql.replace(/\{\{ID\}\}/g, db.kind === 'sqlite' ? 'INTEGER PRIMARY KEY' : 'BIGSERIAL PRIMARY KEY');
}

async function currentVersion(db: Db): Promise<number> {
  const rows = await db.all<{ v: number | string | null }>('SELECT MAX(version) AS v FROM hil_schema');
  return Number(rows[0]?.v ?? 0);
}

/**
 * Brings the database to SCHEMA_VERSION. Returns the versions applied (empty: it was current).
 * Safe to call from several processes at once (SQLite: IMMEDIATE transaction; PostgreSQL:
 * advisory lock), each migration applied exactly once.
 */
export async function migrate(db: Db, location: string): Promise<number[]> {
  await db.exec('CREATE TABLE IF NOT EXISTS hil_schema (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)').catch(async (e: { code?: string }) => {
    // PostgreSQL: two first uses racing on CREATE TABLE IF NOT EXISTS; the table is there.
    if (e?.code !== '23505' && e?.code !== '42P07') throw e;
  });
  const applied: number[] = [];
  const have = await currentVersion(db);
  if (have > SCHEMA_VERSION) throw new HistorySchemaError(`${location}: history schema version ${have} is newer than this hil's (${SCHEMA_VERSION}); not recording`);
  if (have === SCHEMA_VERSION) return applied;
  await db.tx(async () => {
    const now = await currentVersion(db);
    for (const m of MIGRATIONS) {
      if (m.version <= now) continue;
      await db.exec(dialect(db, m.sql));
      await m.backfill?.(db);
      await db.run('INSERT INTO hil_schema (version, applied_at) VALUES (?, ?)', [m.version, new Date().toISOString()]);
      applied.push(m.version);
    }
  }, { lockKey: MIGRATION_LOCK });
  return applied;
}
