/**
 * The one SQL surface the history store uses, over SQLite (better-sqlite3) and PostgreSQL (pg).
 * SQL is written once with `?` placeholders (turned into `$1..$n` for PostgreSQL); values are
 * strings, numbers and null only (JSON travels as TEXT, times as ISO-8601 UTC TEXT), so both
 * engines store and compare them alike.
 */
import { ExitCode, HilError } from '../errors.js';

export type SqlValue = string | number | null;

/**
 * The database refused or failed a statement (SQLite: better-sqlite3's error, re-thrown as this;
 * `code` is the engine's, e.g. `SQLITE_CONSTRAINT_NOTNULL`, `SQLITE_CORRUPT`). hil's own class:
 * better-sqlite3's native addon is initialised once per process with the error constructor of the
 * first module instance that loaded it, so under a test runner that gives each file its own
 * module realm (jest), its errors in a later file were not `instanceof Error` there.
 */
export class HistoryDbError extends HilError {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined, options?: { cause?: unknown }) {
    super(message, ExitCode.INFRA, options);
    this.code = code;
  }
}

export interface Db {
  readonly kind: 'sqlite' | 'postgres';
  /** Rows of a SELECT. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Rows of a SELECT as arrays, columns in the SELECT's order (no object per row: for big reads). */
  rows(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]>;
  /** A statement without rows (INSERT, UPDATE, DDL). */
  run(sql: string, params?: readonly SqlValue[]): Promise<void>;
  /** INSERT one row into a table with an `id` key; returns the new id. */
  insertId(sql: string, params: readonly SqlValue[]): Promise<number>;
  /** Many rows into `table` (columns in order); `conflict` is appended (e.g. `ON CONFLICT DO NOTHING`). */
  insertMany(table: string, columns: readonly string[], rows: readonly SqlValue[][], conflict?: string): Promise<void>;
  /** Several statements of DDL at once. */
  exec(sql: string): Promise<void>;
  /** `fn` inside one transaction (committed when it resolves, rolled back when it throws). */
  tx<T>(fn: () => Promise<T>, opts?: { lockKey?: number }): Promise<T>;
  close(): Promise<void>;
}

/** `?` placeholders to PostgreSQL's `$n` (hil's SQL holds no `?` inside literals). */
export function toPgParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
