/**
 * PostgreSQL leases against a real server (HIL_TEST_POSTGRES; this file makes its own database and
 * drops it): one grant at a time, fencing tokens that grow with every grant, the heartbeat that
 * keeps a lease and the TTL that ends an unrenewed one, the fence naming who holds the board now,
 * break, a database that goes away (through a TCP proxy this test cuts), and a heartbeat timer
 * that never keeps a process alive.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { getEventListeners } from 'node:events';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LeaseBusyError } from '../lease.js';
import { createScratchDatabase, type ScratchDatabase } from '../../../test/helpers/postgres.js';
import { LeaseLostError, PgLeaseStore, openLeaseStore, type HeldLease } from './index.js';

const base = process.env.HIL_TEST_POSTGRES;
if (!base) console.log('PostgreSQL lease tests skipped: HIL_TEST_POSTGRES is not set (e.g. postgres://hil:hil@127.0.0.1:5432/hil_test)');
const maybe = base ? describe : describe.skip;

let db: ScratchDatabase | undefined;
let url = '';
const stores: PgLeaseStore[] = [];
function store(ttlMs = 3000, u = url): PgLeaseStore {
  const s = new PgLeaseStore({ url: u, ttlMs });
  stores.push(s);
  return s;
}

beforeAll(async () => {
  if (!base) return;
  db = await createScratchDatabase(base, 'hil_lease');
  url = db.url;
});

afterAll(async () => {
  if (!base) return;
  for (const s of stores) await s.close();
  await db?.drop();
});

/** Resolves with the error `p` rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

const root = resolve(new URL('../../..', import.meta.url).pathname);
const leasesModule = resolve(root, 'dist/harness/bench/leases/index.js');

/**
 * A lease holder in its own process (dist/: `npm run build` first): takes the lease, prints
 * HELD <token>; on a line `fence` on stdin prints the fence's outcome as JSON; on `end` releases
 * and exits.
 */
function holderProcess(key: string, ttlMs: number) {
  const script = `const { PgLeaseStore } = await import(${JSON.stringify(leasesModule)});
const s = new PgLeaseStore({ url: process.env.U, ttlMs: ${ttlMs} });
const l = await s.acquire(${JSON.stringify(key)}, { what: 'runner A' });
process.stdout.write('HELD ' + l.token + '\\n');
let buf = '';
process.stdin.on('data', async (d) => {
  buf += d;
  for (let i; (i = buf.indexOf('\\n')) >= 0;) {
    const cmd = buf.slice(0, i); buf = buf.slice(i + 1);
    if (cmd === 'fence') {
      const r = await l.fence().then(() => ({ ok: true }), (e) => ({ ok: false, name: e.name, message: e.message, exitCode: e.exitCode }));
      process.stdout.write('FENCE ' + JSON.stringify(r) + '\\n');
    } else if (cmd === 'end') { await l.release(); await s.close(); process.exit(0); }
  }
});`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, U: url }, stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  const waiters: (() => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  const line = (re: RegExp, ms = 15000) =>
    new Promise<RegExpExecArray>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`holder process: no ${re} within ${ms} ms (got ${JSON.stringify(out)})`)), ms);
      const look = () => {
        const m = re.exec(out);
        if (m) {
          clearTimeout(t);
          out = out.slice(m.index + m[0].length);
          res(m);
        } else waiters.push(look);
      };
      look();
    });
  return {
    child,
    held: line(/HELD (\d+)\n/).then((m) => Number(m[1])),
    async fence(): Promise<{ ok: boolean; name?: string; message: string; exitCode?: number }> {
      child.stdin.write('fence\n');
      return JSON.parse((await line(/FENCE (.*)\n/))[1]!);
    },
    async end(): Promise<void> {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.stdin.write('end\n');
      await gone;
    },
  };
}
const children: ReturnType<typeof spawn>[] = [];

/** Fences `l` until its fence throws (the cache has run out and the row says why), within `ms`. */
async function fencedWithin(l: HeldLease, ms: number): Promise<Error> {
  const deadline = Date.now() + ms;
  for (;;) {
    const e = await l.fence().then(() => null, (x: unknown) => x as Error);
    if (e) return e;
    if (Date.now() > deadline) throw new Error(`still not fenced after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

maybe('PostgreSQL leases', () => {
  it('openLeaseStore picks PostgreSQL for postgres:// and refuses what it does not know (exit 2)', async () => {
    const s = openLeaseStore({ leases: url });
    expect(s.kind).toBe('postgres');
    expect(s.where).toContain(db!.name);
    expect(s.where).not.toContain('hil:hil');
    await s.close();
    expect(openLeaseStore({ leases: 'file:/tmp/x' }).kind).toBe('file');
    expect(() => openLeaseStore({ leases: 'redis://x' })).toThrow(/expected postgres:\/\//);
    expect(() => openLeaseStore({ leases: url, ttlMs: 10 })).toThrow(/at least 1 second/);
  });

  it('one holder at a time: the second is refused naming the holder (host, PID, what, token)', async () => {
    const a = store();
    const b = store();
    const key = `k1-${randomBytes(3).toString('hex')}`;
    const held = await a.acquire(key, { what: 'runner A' });
    expect(held.token).toBeGreaterThan(0);
    expect(held.holder).toMatchObject({ host: hostname(), pid: process.pid, what: 'runner A' });
    const ac = new AbortController();
    const e = await rejection(b.acquire(key, { what: 'runner B', waitMs: 300, pollMs: 5, signal: ac.signal }));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0); // no listener left per poll
    expect(e).toBeInstanceOf(LeaseBusyError);
    expect(e.message).toContain(`device ${key} is leased by PID ${process.pid} on ${hostname()}`);
    expect(e.message).toContain('runner A');
    expect(e.message).toContain(`token ${held.token}`);
    expect(e.message).toContain('after waiting 0.3 s');
    expect((e as LeaseBusyError).exitCode).toBe(3);
    const listed = await b.list();
    expect(listed.find((r) => r.key === key)).toMatchObject({ token: held.token, what: 'runner A', live: true });
    await held.release();
    const again = await b.acquire(key, { what: 'runner B' });
    expect(again.token!).toBeGreaterThan(held.token!);
    await again.release();
    expect((await b.list()).find((r) => r.key === key)).toBeUndefined();
  });

  it('many runners racing for one key: exactly one wins; tokens grow with every grant', async () => {
    const key = `race-${randomBytes(3).toString('hex')}`;
    const racers = Array.from({ length: 6 }, () => store());
    const results = await Promise.allSettled(racers.map((s, i) => s.acquire(key, { what: `racer ${i}` })));
    const won = results.filter((r): r is PromiseFulfilledResult<HeldLease> => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const tokens: number[] = [won[0]!.value.token!];
    await won[0]!.value.release();
    for (const s of racers) {
      const l = await s.acquire(key);
      tokens.push(l.token!);
      await l.release();
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!);
  });

  it('the heartbeat keeps a lease past its TTL; a holder that stops renewing loses it and is fenced naming the new holder', async () => {
    const key = `hb-${randomBytes(3).toString('hex')}`;
    // Runner A is another process; SIGSTOP freezes it (no heartbeat: a hung or unplugged host).
    const a = holderProcess(key, 1000);
    const token = await a.held;
    const b = store(1000);
    // B waits 2.5 TTLs: A renews all that time, so B is refused.
    const e = await rejection(b.acquire(key, { what: 'runner B', waitMs: 2500 }));
    expect(e).toBeInstanceOf(LeaseBusyError);
    expect(e.message).toContain(`PID ${a.child.pid}`);
    a.child.kill('SIGSTOP');
    const stopped = Date.now();
    const taken = await b.acquire(key, { what: 'runner B', waitMs: 5000, pollMs: 50 });
    expect(taken.token!).toBeGreaterThan(token);
    expect(Date.now() - stopped).toBeLessThan(1000 + 1000);
    // A wakes up, still thinking it holds the board: stopped before its next board operation.
    a.child.kill('SIGCONT');
    const lost = await a.fence();
    expect(lost.name).toBe('LeaseLostError');
    expect(lost.exitCode).toBe(3);
    expect(lost.message).toContain(`lease on ${key} lost: now held by PID ${process.pid} on ${hostname()}`);
    expect(lost.message).toContain('runner B');
    expect(lost.message).toContain(`token ${taken.token}; ours was token ${token}`);
    // Its release does not take B's lease away.
    await a.end();
    await taken.fence();
    await taken.release();
  });

  it('break ends the lease whoever holds it, says whose it was, and the holder is fenced with who broke it', async () => {
    const a = store();
    const key = `brk-${randomBytes(3).toString('hex')}`;
    const held = await a.acquire(key, { what: 'runner A' });
    const was = await store().breakLease(key, 'broken by the test');
    expect(was).toMatchObject({ key, what: 'runner A', token: held.token, pid: process.pid });
    expect(await store().breakLease(key, 'again')).toBeNull();
    // Its next fence once its fence cache (min(1 s, TTL/10)) has run out reads the break.
    const lost = await fencedWithin(held, a.fenceCacheMs + 5000);
    expect(lost.message).toContain('broken by the test');
    // Free for the next runner (once the broken holder's fence cache has run out).
    const next = await store().acquire(key, { what: 'runner C', waitMs: 5000, pollMs: 20 });
    await next.release();
  });

  it('the fence cache: fences within min(1 s, TTL/10) of a confirmed read do not query the database', async () => {
    const s = store(10_000);
    expect(s.fenceCacheMs).toBe(1000);
    const l = await s.acquire(`cache-${randomBytes(3).toString('hex')}`, { what: 'cache' });
    let queries = 0;
    const query = s.query.bind(s);
    s.query = ((sql: string, params?: unknown[]) => {
      queries++;
      return query(sql, params);
    }) as typeof s.query;
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) await l.fence();
    const elapsed = performance.now() - t0;
    // At most one read per cache period (plus the heartbeat's renewals): not one per fence.
    expect(queries).toBeLessThanOrEqual(Math.ceil(elapsed / s.fenceCacheMs) + Math.ceil(elapsed / (s.ttlMs / 3)) + 1);
    s.query = query;
    await l.release();
    // 0 turns it off: every fence is a read.
    const u = new PgLeaseStore({ url, ttlMs: 10_000, fenceCacheMs: 0 });
    stores.push(u);
    const m = await u.acquire(`nocache-${randomBytes(3).toString('hex')}`);
    let reads = 0;
    const q2 = u.query.bind(u);
    u.query = ((sql: string, params?: unknown[]) => {
      reads++;
      return q2(sql, params);
    }) as typeof u.query;
    for (let i = 0; i < 20; i++) await m.fence();
    expect(reads).toBeGreaterThanOrEqual(20);
    u.query = q2;
    await m.release();
  });

  it('a broken holder with a cached fence never overlaps the next grant: the board is granted again only once its fence cache has run out', async () => {
    const a = store(10_000); // fence cache 1 s
    const key = `overlap-${randomBytes(3).toString('hex')}`;
    const held = await a.acquire(key, { what: 'runner A' });
    await held.fence(); // a confirmed read: the cache now answers for up to 1 s
    const b = store(10_000);
    expect(await b.breakLease(key, 'broken by the test')).not.toBeNull();
    // B polls as fast as it can; the moment it has the board, A's fence must already stop A.
    const next = await b.acquire(key, { what: 'runner B', waitMs: 10_000, pollMs: 5 });
    const lost = await rejection(held.fence());
    expect(lost).toBeInstanceOf(LeaseLostError);
    expect(lost.message).toContain('runner B');
    await next.release();
  });

  it('the database deadline is its own (5 s), not TTL/3: a 1 s TTL lease is granted through a link that takes 0.6 s to answer', async () => {
    // A TCP proxy in front of the server that holds every answer 600 ms (a loaded machine or a
    // slow network). The old deadline, TTL/3 = 333 ms, could not connect through it.
    const target = new URL(url);
    const socks = new Set<Socket>();
    const proxy: Server = createServer((c) => {
      const s = connect(Number(target.port || 5432), target.hostname);
      socks.add(c).add(s);
      c.pipe(s);
      s.on('data', (d: Buffer) => setTimeout(() => c.write(d), 600));
      s.on('end', () => setTimeout(() => c.end(), 650));
      c.on('error', () => s.destroy());
      s.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const via = new URL(url);
      via.hostname = '127.0.0.1';
      via.port = String((proxy.address() as { port: number }).port);
      const s = store(1000, via.toString());
      expect(s.queryTimeoutMs).toBe(5000);
      const l = await s.acquire(`slow-${randomBytes(3).toString('hex')}`, { what: 'slow link' });
      expect(l.token).toBeGreaterThan(0);
      await l.release();
      await s.close();
    } finally {
      for (const x of socks) x.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it('a database that never answers: one clear error naming the deadline (exit 3)', async () => {
    // Accepts the connection and says nothing.
    const socks = new Set<Socket>();
    const silent: Server = createServer((c) => void socks.add(c));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String((silent.address() as { port: number }).port);
      const s = new PgLeaseStore({ url: u.toString(), queryTimeoutMs: 300 });
      stores.push(s);
      const e = await rejection(s.acquire('silent'));
      expect(e.name).toBe('InfraError');
      expect((e as Error & { exitCode?: number }).exitCode).toBe(3);
      expect(e.message).toMatch(/^leases in postgres 127\.0\.0\.1:\d+\/\w+: cannot connect within 300 ms \(the lease store's database deadline\)/);
    } finally {
      for (const x of socks) x.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('a database that goes away: the lease counts as ours until TTL after the last confirmed renewal, then fenced', async () => {
    // A TCP proxy in front of the server, cut to stand for the holder's network going down.
    const target = new URL(url);
    const socks = new Set<Socket>();
    const proxy: Server = createServer((c) => {
      const s = connect(Number(target.port || 5432), target.hostname);
      socks.add(c).add(s);
      c.pipe(s).pipe(c);
      c.on('error', () => s.destroy());
      s.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const via = new URL(url);
    via.hostname = '127.0.0.1';
    via.port = String((proxy.address() as { port: number }).port);
    const a = store(1500, via.toString());
    const key = `net-${randomBytes(3).toString('hex')}`;
    const held = await a.acquire(key, { what: 'runner A' });
    await held.fence();
    // Network gone: no new connections, the open ones dropped.
    const closed = new Promise<void>((r) => proxy.close(() => r()));
    for (const s of socks) s.destroy();
    await closed;
    const cut = Date.now();
    // Another runner (with its own, working network) gets the board after the TTL.
    const b = store(1500);
    const taken = await b.acquire(key, { what: 'runner B', waitMs: 6000, pollMs: 50 });
    expect(Date.now() - cut).toBeLessThan(1500 + 1000);
    // By then A cannot have confirmed a renewal for a TTL: its fence stops it.
    const lost = await rejection(held.fence());
    expect(lost).toBeInstanceOf(LeaseLostError);
    expect(lost.message).toMatch(/not renewed for \d+\.\d s \(TTL 1\.5 s\) and the database cannot be reached/);
    await taken.release();
  });

  it("the heartbeat never keeps a process alive: a script that takes a lease and ends exits by itself", async () => {
    const mod = leasesModule;
    const key = `exit-${randomBytes(3).toString('hex')}`;
    const script = `const { PgLeaseStore } = await import(${JSON.stringify(mod)});
const s = new PgLeaseStore({ url: process.env.U, ttlMs: 1500 });
const l = await s.acquire(${JSON.stringify(key)}, { what: 'forgetful' });
process.stdout.write('HELD ' + l.token + '\\n');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, U: url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const deadline = new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15000).unref());
    const how = await Promise.race([exited, deadline]);
    if (how === 'hung') child.kill('SIGKILL');
    expect(how).toBe(0);
    expect(out).toMatch(/^HELD \d+/);
    // It never released: the lease ends after its TTL, as for a killed holder.
    const b = store(1500);
    const l = await b.acquire(key, { waitMs: 5000, pollMs: 50 });
    await l.release();
  });
});
