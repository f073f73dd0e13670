/**
 * The embedded history database: one SQLite file through better-sqlite3 (synchronous, so each
 * call resolves at once). WAL journal and a busy timeout let several hil processes on one host
 * record into the same file. A file that is not a readable database is set aside (renamed with a
 * `.corrupt-<time>` suffix, never deleted) and a new one is started, with a warning.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { HistoryDbError, type Db, type SqlValue } from './db.js';

type Stmt = Database.Statement<unknown[], unknown>;

/** better-sqlite3's error as hil's HistoryDbError (message and code kept, the original as cause). */
export function asDbError(e: unknown): unknown {
  if (e instanceof HistoryDbError) return e;
  const o = e as { message?: unknown; code?: unknown } | null;
  if (!o || typeof o !== 'object' || typeof o.message !== 'string') return e;
  return new HistoryDbError(o.message, typeof o.code === 'string' ? o.code : undefined, { cause: e });
}

/** `fn` with any error it throws turned into a HistoryDbError. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asDbError(e);
  }
}

class SqliteDb implements Db {
  readonly kind = 'sqlite' as const;
  private readonly stmts = new Map<string, Stmt>();
  constructor(private readonly db: Database.Database) {}

  /** Prepared once per statement text and kept for the store's life. */
  private stmt(sql: string): Stmt {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return guard(() => this.stmt(sql).raw(false).all(...params) as T[]);
  }

  async rows(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
    return guard(() => this.stmt(sql).raw(true).all(...params) as unknown[][]);
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<void> {
    guard(() => this.stmt(sql).run(...params));
  }

  async insertId(sql: string, params: readonly SqlValue[]): Promise<number> {
    return guard(() => Number(this.stmt(sql).run(...params).lastInsertRowid));
  }

  async insertMany(table: string, columns: readonly string[], rows: readonly SqlValue[][], conflict = ''): Promise<void> {
    if (rows.length === 0) return;
    guard(() => {
      const s = this.stmt(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ${conflict}`);
      for (const r of rows) s.run(...r);
    });
  }

  async exec(sql: string): Promise<void> {
    guard(() => this.db.exec(sql));
  }

  async tx<T>(fn: () => Promise<T>): Promise<T> {
    // IMMEDIATE: take the write lock first, so two processes never both read-then-upgrade.
    guard(() => this.db.exec('BEGIN IMMEDIATE'));
    try {
      const v = await fn();
      guard(() => this.db.exec('COMMIT'));
      return v;
    } catch (e) {
      if (this.db.inTransaction) guard(() => this.db.exec('ROLLBACK'));
      throw e;
    }
  }

  async close(): Promise<void> {
    guard(() => this.db.close());
  }
}

/** SQLite's answer for a file that is not (or no longer) a database. */
export function isCorruptionError(e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT'));
}

function openChecked(file: string): Database.Database {
  const db = guard(() => new Database(file, { timeout: 10_000 }));
  try {
    db.pragma('journal_mode = WAL');
    // Durability: in WAL mode NORMAL syncs at checkpoints, not at each commit. A committed run
    // survives hil (or any process) crashing: the commit is in the WAL file the OS holds. A power
    // loss or an OS crash may roll back the runs committed since the last checkpoint; the file
    // stays a consistent database (sqlite.org/pragma.html#pragma_synchronous). FULL (an fsync
    // per commit) cost 25 ms per recorded run against NORMAL's ~7 ms at load 16.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // Reads the schema: a file that is not a database fails here, not halfway through a write.
    // (Damage deeper in a file shows when it is written: recordRunQuietly sets it aside then.)
    db.prepare('SELECT COUNT(*) FROM sqlite_master').get();
    return db;
  } catch (e) {
    db.close();
    throw asDbError(e);
  }
}

export interface OpenedSqlite {
  db: Db;
  /** Set when a corrupt file was moved out of the way: where it now is. */
  setAside?: string;
}

/** Opens (creating folder and file if needed) the SQLite history at `file`. */
export function openSqlite(file: string, now: () => Date = () => new Date()): OpenedSqlite {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  try {
    return { db: new SqliteDb(openChecked(file)) };
  } catch (e) {
    if (!isCorruptionError(e) || file === ':memory:') throw e;
    const aside = setAside(file, now);
    return { db: new SqliteDb(openChecked(file)), setAside: aside };
  }
}

/** Renames a damaged history (and its journal files) to `<file>.corrupt-<time>`; returns the new name. Never deletes. */
export function setAside(file: string, now: () => Date = () => new Date()): string {
  let aside = `${file}.corrupt-${now().toISOString().replace(/[:.]/g, '-')}`;
  for (let i = 2; existsSync(aside); i++) aside = `${file}.corrupt-${now().toISOString().replace(/[:.]/g, '-')}-${i}`;
  renameSync(file, aside);
  // The journal files belong to the damaged database: they go with it.
  for (const ext of ['-wal', '-shm']) if (existsSync(file + ext)) renameSync(file + ext, aside + ext);
  return aside;
}
