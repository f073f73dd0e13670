/**
 * History figures (issue 13), run by `npm run bench` through benchmarks/index.ts:
 * - recording one nightly run's results (16 devices x 3 scenarios: 112 check results, every
 *   attempt) into a history that already holds 60 such nights (harness/history/seed.ts), on
 *   SQLite (goal <= 20 ms) and on PostgreSQL beside it (HIL_BENCH_POSTGRES, else
 *   HIL_TEST_POSTGRES: a schema of its own, dropped afterwards; left out with the reason when
 *   neither is set). Median of 15 records on an open store; same-run reference: writing the
 *   run's JSON report (what hil run already writes with --json). Also what `hil run` pays in all
 *   for its history on SQLite: open (schema check) + record + close.
 * - database size per 10,000 check results, after the 60 nights (SQLite: the file after a WAL
 *   checkpoint; PostgreSQL: pg_total_relation_size of hil's tables).
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openHistory, type HistoryStore } from '../harness/history/index.js';
import { seedHistory, seedProvenance, seedRuns } from '../harness/history/seed.js';
import { parsePgUrl, quoteIdent } from '../harness/history/postgres.js';
import { toJsonReport } from '../harness/report/json.js';
import type { RunResult } from '../harness/scenario/result.js';
import type { Figure } from './index.js';

interface Ctx {
  tmpDir: string;
  log?(line: string): void;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const REPEATS = 15;

/** Each record gets its own start time (after the seeded nights), as the next nights would. */
function nextNights(n: number): RunResult[] {
  const template = seedRuns({ nights: 1, start: new Date('2026-03-02T02:00:00Z') })[0]!;
  return Array.from({ length: n }, (_, i) => ({ ...template, startedAt: new Date(Date.parse(template.startedAt) + i * 86_400_000).toISOString() }));
}

async function timeRecords(store: HistoryStore): Promise<number[]> {
  const out: number[] = [];
  for (const run of nextNights(REPEATS)) {
    const t0 = performance.now();
    await store.recordRun(run, { provenance: seedProvenance(60) });
    out.push(performance.now() - t0);
  }
  return out;
}

export async function run(ctx: Ctx): Promise<Figure[]> {
  const log = (l: string) => ctx.log?.(l);
  const figures: Figure[] = [];
  const one = nextNights(1)[0]!;
  const checksPerRun = one.devices.reduce((a, d) => a + d.scenarios.reduce((b, s) => b + s.checks.length + (s.previousAttempts ?? []).reduce((c, p) => c + p.checks.length, 0), 0), 0);

  // The reference: the JSON report of the same run, written to a file.
  const jsonMs: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    writeFileSync(join(ctx.tmpDir, 'results.json'), toJsonReport(one));
    jsonMs.push(performance.now() - t0);
  }
  const jsonRef = { name: 'writing the same run\'s JSON report', value: median(jsonMs), unit: 'ms' };

  // SQLite.
  const file = join(ctx.tmpDir, 'history.sqlite');
  let store = await openHistory(file);
  const s0 = performance.now();
  await seedHistory(store);
  log(`SQLite: seeded 16 x 3 x 60 in ${(performance.now() - s0).toFixed(0)} ms`);
  const { results: seededResults } = await store.counts();
  await store.close();
  // Size first (the 60 nights only), the WAL folded into the file.
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(file);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const sqliteBytes = statSync(file).size;
  store = await openHistory(file);
  const rec = await timeRecords(store);
  await store.close();
  const full: number[] = [];
  for (const run of nextNights(REPEATS).map((r) => ({ ...r, startedAt: r.startedAt.replace('2026-03', '2026-05') }))) {
    const t0 = performance.now();
    const s = await openHistory(file);
    await s.recordRun(run, { provenance: seedProvenance(60) });
    await s.close();
    full.push(performance.now() - t0);
  }
  const r = median(rec);
  log(`SQLite record: ${rec.map((x) => x.toFixed(1)).join(', ')} ms`);
  figures.push({
    name: `record one run's results, SQLite (${checksPerRun} check results, history of 60 nights)`, value: r, unit: 'ms',
    reference: jsonRef, ratio: r / jsonRef.value, goal: '<= 20 ms', met: r <= 20, note: `median of ${REPEATS}`,
  });
  figures.push({ name: 'hil run\'s whole history cost on SQLite (open + schema check + record + close)', value: median(full), unit: 'ms', note: `median of ${REPEATS}` });
  figures.push({ name: 'SQLite database size per 10,000 check results', value: (sqliteBytes / seededResults) * 10_000 / 1024, unit: 'KiB', note: `${seededResults} results in ${(sqliteBytes / 1024).toFixed(0)} KiB` });

  // PostgreSQL beside it.
  const base = process.env.HIL_BENCH_POSTGRES || process.env.HIL_TEST_POSTGRES;
  if (!base) {
    figures.push({ name: 'record one run\'s results, PostgreSQL: not measured (set HIL_BENCH_POSTGRES or HIL_TEST_POSTGRES)', value: NaN, unit: '' });
    return figures;
  }
  const schema = `hil_bench_${process.pid}_${Date.now().toString(36)}`;
  const u = new URL(base);
  u.searchParams.set('schema', schema);
  const admin = new pg.Client({ connectionString: parsePgUrl(base).connectionString });
  await admin.connect();
  try {
    const ps = await openHistory(u.toString());
    try {
      const p0 = performance.now();
      await seedHistory(ps);
      log(`PostgreSQL: seeded 16 x 3 x 60 in ${(performance.now() - p0).toFixed(0)} ms`);
      const { results } = await ps.counts();
      const size = await admin.query<{ n: string }>(
        `SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
        [schema],
      );
      const prec = await timeRecords(ps);
      log(`PostgreSQL record: ${prec.map((x) => x.toFixed(1)).join(', ')} ms`);
      const p = median(prec);
      figures.push({
        name: `record one run's results, PostgreSQL (${checksPerRun} check results, history of 60 nights, local server)`, value: p, unit: 'ms',
        reference: { name: 'the same on SQLite', value: r, unit: 'ms' }, ratio: p / r, goal: '<= 20 ms (the SQLite goal, for comparison)', met: p <= 20, note: `median of ${REPEATS}`,
      });
      figures.push({ name: 'PostgreSQL database size per 10,000 check results (tables, indexes, TOAST)', value: (Number(size.rows[0]!.n) / results) * 10_000 / 1024, unit: 'KiB', note: `${results} results` });
    } finally {
      await ps.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => undefined);
    await admin.end();
  }
  return figures;
}
