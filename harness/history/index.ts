/**
 * The run history (issue 13): every `hil run` records its results, with their provenance, into
 * one schema held in SQLite (embedded default, a file) or PostgreSQL (shared by several hosts).
 *
 * Use:
 *   const store = await openHistory(resolveHistoryLocation({ flag: args.history }));
 *   const id = await store.recordRun(run);           // every attempt and check of a RunResult
 *   const runs = await store.recentRuns({ limit: 20 });
 *   const rows = await store.resultsForRuns(runs.map((r) => r.id));
 *   await store.setDeviceState('cam1', { state: 'suspect', reason: '...', since, consecutiveFailures: 1 });
 *   await store.close();
 *
 * `recordRunQuietly` is what `hil run` calls: a history that cannot be opened or written is one
 * warning line and never changes the run's exit code. A SQLite file that is not a database is
 * renamed aside (`<file>.corrupt-<time>`), never deleted, and a new one is started.
 *
 * Layout: db.ts (the SQL surface), sqlite.ts, postgres.ts, schema.ts (migrations), store.ts
 * (HistoryStore: write and read), provenance.ts, location.ts, queries.ts (regressions, flaky),
 * seed.ts (a synthetic history for tests and benchmarks).
 */
import { oneLine } from '../errors.js';
import type { RunResult } from '../scenario/result.js';
import type { Db } from './db.js';
import { describeLocation, resolveHistoryLocation, type HistoryLocation } from './location.js';
import { migrate } from './schema.js';
import { HistoryStore, type RecordOptions } from './store.js';

export { HistoryStore, defaultClass, type RecordOptions } from './store.js';
export type { RunRow, RunKind, ResultRow, VerdictRow, DeviceState, DeviceStateRow, DeviceHealthState, ResultFilter } from './types.js';
export { resolveHistoryLocation, historyFlag, defaultHistoryFile, describeLocation, redactUrl, type HistoryLocation } from './location.js';
export { runProvenance, ciJob, hashFolder, hilVersion, type RunProvenance, type CiJob } from './provenance.js';
export { SCHEMA_VERSION, MIGRATIONS, HistorySchemaError } from './schema.js';
export { HistoryDbError } from './db.js';

export interface OpenHistoryOptions {
  /** Called with one line when something was done to keep going (a corrupt file set aside). */
  onWarning?: (line: string) => void;
  /** Deadline for connecting to PostgreSQL (ms, default 10000). */
  connectTimeoutMs?: number;
}

/**
 * Opens the history at `location` (a path, a postgres:// URL, or a resolved HistoryLocation),
 * creating it and applying the schema's migrations on first use. Throws when it cannot be
 * opened (the caller decides whether that matters: `hil run` warns, `hil history` fails).
 */
export async function openHistory(location: HistoryLocation | string, opts: OpenHistoryOptions = {}): Promise<HistoryStore> {
  const loc = typeof location === 'string' ? resolveHistoryLocation({ flag: location }) : location;
  if (loc.kind === 'off') throw new Error('history is off (--no-history or HIL_HISTORY=off)');
  const where = describeLocation(loc);
  let db: Db;
  if (loc.kind === 'sqlite') {
    // Loaded on first use: a command that records nothing does not pay for the native module.
    const { openSqlite } = await import('./sqlite.js');
    const opened = openSqlite(loc.file);
    if (opened.setAside) opts.onWarning?.(`history ${loc.file} was not a readable SQLite database: set aside as ${opened.setAside}, started a new one`);
    db = opened.db;
  } else {
    const { openPostgres } = await import('./postgres.js');
    db = await openPostgres(loc.url, { timeoutMs: opts.connectTimeoutMs });
  }
  try {
    await migrate(db, where);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  return new HistoryStore(db, where);
}

export interface RecordQuietlyOptions extends RecordOptions, OpenHistoryOptions {}

/**
 * Records `run` at `location`; never throws. Returns the run id, or undefined when nothing was
 * recorded, after one warning line through onWarning (`history not recorded (WHERE): WHY`).
 */
export async function recordRunQuietly(location: HistoryLocation, run: RunResult, opts: RecordQuietlyOptions = {}): Promise<number | undefined> {
  if (location.kind === 'off') return undefined;
  const warn = opts.onWarning ?? (() => {});
  for (let tries = 1; ; tries++) {
    let store: HistoryStore | undefined;
    try {
      store = await openHistory(location, opts);
      return await store.recordRun(run, opts);
    } catch (e) {
      await store?.close().catch(() => undefined);
      store = undefined;
      if (location.kind === 'sqlite' && tries === 1) {
        // Damage found while writing (the open only reads the schema): set aside, start anew, once.
        const { isCorruptionError, setAside } = await import('./sqlite.js');
        if (isCorruptionError(e)) {
          try {
            const aside = setAside(location.file);
            warn(`history ${location.file} is damaged (${oneLine(e)}): set aside as ${aside}, started a new one`);
            continue;
          } catch { /* reported below */ }
        }
      }
      warn(`history not recorded (${describeLocation(location)}): ${oneLine(e)}`);
      return undefined;
    } finally {
      await store?.close().catch(() => undefined);
    }
  }
}
