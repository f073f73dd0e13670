/**
 * A scratch PostgreSQL database for one test file (HIL_TEST_POSTGRES names the server; role `hil`
 * may create databases): a random name, made in beforeAll and dropped (WITH FORCE: connections a
 * killed runner left are cut) in afterAll, so test files running in parallel never share tables.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Runs one statement as the server's test role (on HIL_TEST_POSTGRES's own database). */
export async function pgAdmin(base: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export interface ScratchDatabase {
  readonly name: string;
  /** postgres://... of the new database. */
  readonly url: string;
  drop(): Promise<void>;
}

/** Creates a database `<prefix>_<random>` on `base`'s server. */
export async function createScratchDatabase(base: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await pgAdmin(base, `CREATE DATABASE ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return { name, url: u.toString(), drop: () => pgAdmin(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
