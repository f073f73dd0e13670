/**
 * Lease benchmarks (issue 16), run by `npm run bench` through benchmarks/index.ts: the latency of
 * one uncontended lease grant (acquire, then release) on PostgreSQL beside the file lease in the
 * same run, and the cost of the fence a lease adds before every board operation: wall time and this
 * process's CPU per fence over FENCES fences of one lease, for PostgreSQL with its fence cache
 * (min(1 s, TTL/10): leases/postgres.ts), PostgreSQL reading the row at every fence (cache off,
 * what it was before), and the file lease (one stat). A 16-board run doing an exec every
 * millisecond per board makes 16,000 fences a second: the CPU figure times that is the share of
 * a core the fence takes. Medians over GRANTS grants, each on a fresh key (as each board of a
 * bench is). PostgreSQL from HIL_BENCH_POSTGRES, else HIL_TEST_POSTGRES; the module makes its own
 * database and drops it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import pg from 'pg';
import { FileLeaseStore, PgLeaseStore, type LeaseStore } from '../harness/bench/leases/index.js';
import type { BenchContext, Figure } from './index.js';

const GRANTS = 200;
const FENCES = 2000;

/** Per fence (us): wall time and this process's CPU, over FENCES fences of one lease. */
async function fenceCost(store: LeaseStore): Promise<{ wallUs: number; cpuUs: number }> {
  const l = await store.acquire(`bench/fence-${randomBytes(3).toString('hex')}`, { what: 'lease bench (fence)' });
  try {
    for (let i = 0; i < 50; i++) await l.fence();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < FENCES; i++) await l.fence();
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    return { wallUs: (wall * 1000) / FENCES, cpuUs: (c.user + c.system) / FENCES };
  } finally {
    await l.release();
  }
}

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
    const fileFence = await fenceCost(file);
    figures.push({ name: 'file lease fence (one stat), wall per fence', value: fileFence.wallUs, unit: 'us', note: `hil CPU ${fileFence.cpuUs.toFixed(1)} us per fence` });
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
        const uncached = new PgLeaseStore({ url: u.toString(), fenceCacheMs: 0 });
        try {
          await grants(uncached, 5);
          // Interleaved, twice, so load drift hits both.
          const runs = { cached: [] as { wallUs: number; cpuUs: number }[], read: [] as { wallUs: number; cpuUs: number }[] };
          for (let r = 0; r < 3; r++) {
            runs.cached.push(await fenceCost(store));
            runs.read.push(await fenceCost(uncached));
          }
          const m = (xs: { wallUs: number; cpuUs: number }[], k: 'wallUs' | 'cpuUs') => median(xs.map((x) => x[k]));
          const spreadOf = (xs: { wallUs: number; cpuUs: number }[], k: 'wallUs' | 'cpuUs') => `${Math.min(...xs.map((x) => x[k])).toFixed(1)}-${Math.max(...xs.map((x) => x[k])).toFixed(1)}`;
          figures.push({
            name: `PostgreSQL fence before a board operation, with the fence cache (${store.fenceCacheMs} ms), wall per fence`, value: m(runs.cached, 'wallUs'), unit: 'us',
            reference: { name: 'reading the row at every fence (cache off)', value: m(runs.read, 'wallUs'), unit: 'us' }, ratio: m(runs.cached, 'wallUs') / m(runs.read, 'wallUs'),
            note: `${FENCES} fences x 3 interleaved runs, min-max ${spreadOf(runs.cached, 'wallUs')} vs ${spreadOf(runs.read, 'wallUs')} us`,
          });
          figures.push({
            name: 'PostgreSQL fence, hil CPU per fence (cached)', value: m(runs.cached, 'cpuUs'), unit: 'us',
            reference: { name: 'cache off', value: m(runs.read, 'cpuUs'), unit: 'us' }, ratio: m(runs.cached, 'cpuUs') / m(runs.read, 'cpuUs'),
            note: `16 boards x 1000 ops/s: ${((m(runs.cached, 'cpuUs') * 16000) / 1e4).toFixed(1)}% of a core vs ${((m(runs.read, 'cpuUs') * 16000) / 1e4).toFixed(1)}% (plus the database server's own work per read)`,
          });
        } finally {
          await uncached.close();
        }
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
