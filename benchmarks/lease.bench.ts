/**
 * Lease benchmarks (issue 16), run by `npm run bench` through benchmarks/index.ts: the latency of
 * one uncontended lease grant (acquire, then release) on PostgreSQL beside the file lease in the
 * same run, and the cost of the fence PostgreSQL leases add before every board operation. Medians
 * over GRANTS grants, each on a fresh key (as each board of a bench is). PostgreSQL from
 * HIL_BENCH_POSTGRES, else HIL_TEST_POSTGRES; the module makes its own database and drops it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { FileLeaseStore, PgLeaseStore, type LeaseStore } from '../harness/bench/leases/index.js';
import type { BenchContext, Figure } from './index.js';

const GRANTS = 200;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function grants(store: LeaseStore, n: number): Promise<{ grant: number[]; release: number[]; fence: number[] }> {
  const out = { grant: [] as number[], release: [] as number[], fence: [] as number[] };
  for (let i = 0; i < n; i++) {
    const key = `bench/${i}-${randomBytes(3).toString('hex')}`;
    const t0 = performance.now();
    const l = await store.acquire(key, { what: 'lease bench' });
    const t1 = performance.now();
    await l.fence();
    const t2 = performance.now();
    await l.release();
    const t3 = performance.now();
    out.grant.push(t1 - t0);
    out.fence.push(t2 - t1);
    out.release.push(t3 - t2);
  }
  return out;
}

async function admin(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hil-lease-bench-'));
  const figures: Figure[] = [];
  try {
    const file = new FileLeaseStore(dir);
    await grants(file, 10); // warm-up
    const f = await grants(file, GRANTS);
    const fileGrant = median(f.grant);
    figures.push({ name: 'file lease grant (median)', value: fileGrant, unit: 'ms', note: `${GRANTS} grants, lock folder on ${tmpdir()}` });
    const base = process.env.HIL_BENCH_POSTGRES ?? process.env.HIL_TEST_POSTGRES;
    if (!base) {
      figures.push({ name: 'PostgreSQL lease grant', value: NaN, unit: 'ms', note: 'not measured: set HIL_BENCH_POSTGRES or HIL_TEST_POSTGRES' });
      return figures;
    }
    const db = `hil_lease_bench_${randomBytes(4).toString('hex')}`;
    await admin(base, `CREATE DATABASE ${db}`);
    try {
      const u = new URL(base);
      u.pathname = `/${db}`;
      const store = new PgLeaseStore({ url: u.toString() });
      try {
        await grants(store, 10); // warm-up: schema, pool connections
        ctx.log(`lease bench: ${GRANTS} PostgreSQL grants on ${store.where}`);
        const p = await grants(store, GRANTS);
        const pgGrant = median(p.grant);
        figures.push({
          name: 'PostgreSQL lease grant (median)',
          value: pgGrant,
          unit: 'ms',
          reference: { name: 'file lease, same run', value: fileGrant, unit: 'ms' },
          ratio: pgGrant / fileGrant,
          note: `${GRANTS} grants, ${u.hostname}; p95 ${p.grant.sort((a, b) => a - b)[Math.floor(GRANTS * 0.95)]!.toFixed(2)} ms`,
        });
        figures.push({ name: 'PostgreSQL fence check before a board operation (median)', value: median(p.fence), unit: 'ms', reference: { name: 'file lease fence', value: median(f.fence), unit: 'ms' } });
        figures.push({ name: 'PostgreSQL lease release (median)', value: median(p.release), unit: 'ms', reference: { name: 'file lease release', value: median(f.release), unit: 'ms' } });
      } finally {
        await store.close();
      }
    } finally {
      await admin(base, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    }
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
