/**
 * For tests only: a PostgreSQL schema of their own in HIL_TEST_POSTGRES (random name, dropped by
 * `drop()`), or the reason there is none. Each test file calls this once, so files running in
 * parallel never share tables.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { parsePgUrl, quoteIdent } from './postgres.js';

export interface TestPg {
  /** postgres://...?schema=NAME to hand to openHistory / --history. */
  url: string;
  schema: string;
  drop(): Promise<void>;
}

export function testPgReason(env: NodeJS.ProcessEnv = process.env): string | null {
  return env.HIL_TEST_POSTGRES ? null : 'HIL_TEST_POSTGRES is not set (see .ci/postgres.sh): PostgreSQL history tests skipped';
}

export function testPgSchema(prefix: string, env: NodeJS.ProcessEnv = process.env): TestPg | null {
  const base = env.HIL_TEST_POSTGRES;
  if (!base) return null;
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  const u = new URL(base);
  u.searchParams.set('schema', schema);
  return {
    url: u.toString(),
    schema,
    async drop() {
      const c = new pg.Client({ connectionString: parsePgUrl(base).connectionString });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
