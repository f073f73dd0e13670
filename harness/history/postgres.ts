/**
 * The shared history database: PostgreSQL through `pg`, one client per hil process.
 * `postgres://user:pass@host:port/db?schema=NAME` keeps hil's tables in schema NAME (created if
 * missing; default `public`), so one database can hold several benches' histories or test runs.
 */
import pg from 'pg';
import { toPgParams, type Db, type SqlValue } from './db.js';

/** Rows per multi-row INSERT (PostgreSQL allows 65535 parameters per statement). */
const CHUNK = 500;

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

class PgDb implements Db {
  readonly kind = 'postgres' as const;
  constructor(private readonly client: pg.Client) {}

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.client.query(toPgParams(sql), params as SqlValue[])).rows as T[];
  }

  async rows(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
    return (await this.client.query({ text: toPgParams(sql), values: params as SqlValue[], rowMode: 'array' })).rows as unknown[][];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<void> {
    await this.client.query(toPgParams(sql), params as SqlValue[]);
  }

  async insertId(sql: string, params: readonly SqlValue[]): Promise<number> {
    const r = await this.client.query(`${toPgParams(sql)} RETURNING id`, params as SqlValue[]);
    return Number((r.rows[0] as { id: string | number }).id);
  }

  async insertMany(table: string, columns: readonly string[], rows: readonly SqlValue[][], conflict = ''): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const part = rows.slice(i, i + CHUNK);
      const values = part.map((_, r) => `(${columns.map((__, c) => `$${r * columns.length + c + 1}`).join(', ')})`).join(', ');
      await this.client.query(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values} ${conflict}`, part.flat());
    }
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql);
  }

  async tx<T>(fn: () => Promise<T>, opts: { lockKey?: number } = {}): Promise<T> {
    await this.client.query('BEGIN');
    try {
      // Serialises e.g. two hosts migrating one database on first use.
      if (opts.lockKey !== undefined) await this.client.query('SELECT pg_advisory_xact_lock($1)', [opts.lockKey]);
      const v = await fn();
      await this.client.query('COMMIT');
      return v;
    } catch (e) {
      await this.client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** Splits hil's own `schema` parameter off a postgres:// URL. */
export function parsePgUrl(url: string): { connectionString: string; schema?: string } {
  const u = new URL(url);
  const schema = u.searchParams.get('schema') ?? undefined;
  u.searchParams.delete('schema');
  return { connectionString: u.toString(), schema };
}

/** Connects (deadline `timeoutMs`), selects the schema (creating it if missing). */
export async function openPostgres(url: string, opts: { timeoutMs?: number } = {}): Promise<Db> {
  const { connectionString, schema } = parsePgUrl(url);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs * 3, application_name: 'hil' });
  // A dropped connection is reported by the next query; without a listener it would crash hil.
  client.on('error', () => undefined);
  await client.connect();
  try {
    if (schema) {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`).catch((e: { code?: string }) => {
        // Two hil processes creating it at once: the loser sees a duplicate; the schema is there.
        if (e?.code !== '42P06' && e?.code !== '23505') throw e;
      });
      await client.query(`SET search_path TO ${quoteIdent(schema)}`);
    }
  } catch (e) {
    await client.end().catch(() => undefined);
    throw e;
  }
  return new PgDb(client);
}
