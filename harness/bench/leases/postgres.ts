/**
 * Leases in PostgreSQL, for a bench shared by hil processes on several hosts (no coordinator: the
 * database is the only shared part). One row per board key in `hil_leases`:
 *
 * - a grant is one atomic upsert that succeeds only when the row is free (released, broken or
 *   past its expiry); it sets the holder (host, PID, CI job, what), `expires = now() + TTL`, and a
 *   fencing token from the sequence `hil_lease_token`, drawn under the row lock, so every grant of
 *   a key has a larger token than the one before;
 * - the holder renews `expires` with a heartbeat (every TTL/3; the timer is unref'd and stopped on
 *   release and on every exit path). A holder that stops renewing (SIGKILL, network gone) loses the
 *   lease when its TTL runs out, and a waiting runner gets it;
 * - `fence()` (before every board operation) reads the row: a different token, or our grant ended
 *   (broken, expired), is LeaseLostError naming who holds the board now. When the database cannot
 *   be reached, the lease counts as ours only until TTL (less a margin) after the last renewal we
 *   sent that was confirmed: after that another runner may have it.
 * - the fence's answer is kept for a bounded time (the fence cache, `fenceCacheMs`: min(1 s,
 *   TTL/10)), so a board doing hundreds of operations a second does not make each one a database
 *   round trip (measured: 1.9 ms wall and 0.5 ms of hil's CPU per query on loopback, under load).
 *   Safe because no other runner can be granted the board while a cached answer is used:
 *     - expiry: a read (fence or heartbeat) that saw our grant live with L ms left on the server's
 *       clock, sent at our monotonic time S, is trusted only until S + min(L, fenceCacheMs); the
 *       server ran it after S, so that is never past our grant's expiry, the earliest another
 *       runner can have it;
 *     - break: `breakLease` ends the grant at once (`ended`), but a broken grant can be granted
 *       again only once its `fence_ms` (this holder's fence cache, stored with the grant) has
 *       passed, by when the holder's cached answer has run out and its next fence reads the row;
 *     - release: our own, known locally.
 *   So a holder whose token is no longer current (another grant exists) always stops before its
 *   next board operation; what the cache allows is that a broken holder, with nobody else on the
 *   board yet, keeps going for at most fenceCacheMs after the break.
 *
 * Times are the database server's (`now()`), so hosts' clocks need not agree. Release and break
 * keep the row (ended = why), so a fenced holder can be told what happened.
 */
import type pg from 'pg';
import { hostname } from 'node:os';
import { InfraError } from '../../errors.js';
import { LeaseBusyError, sleep, type LeaseHolder } from '../lease.js';
import { LeaseLostError, ciJobOf, describeHolder, type AcquireOptions, type HeldLease, type LeaseHolderInfo, type LeaseRecord, type LeaseStore } from './types.js';

export interface PgLeaseOptions {
  /** `postgres://user:pass@host:port/db` */
  url: string;
  /** Lease time to live (ms, default 30000): how long a holder that stopped renewing keeps it. */
  ttlMs?: number;
  /**
   * Deadline of one database round trip and of a new connection (ms, default
   * DEFAULT_QUERY_TIMEOUT_MS, whatever the TTL: a loaded machine may need seconds to connect,
   * and a short TTL does not make the database faster). A query that runs out is an InfraError
   * naming this deadline. Safety does not depend on it: the fence judges an unreachable database
   * by the time since the last confirmed renewal, whatever the query's deadline.
   */
  queryTimeoutMs?: number;
  /** How long a fence answer is trusted (ms, default min(MAX_FENCE_CACHE_MS, TTL/10); 0: every fence queries). */
  fenceCacheMs?: number;
}

export const DEFAULT_TTL_MS = 30_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 5000;
/** Upper bound of the fence cache, whatever the TTL. */
export const MAX_FENCE_CACHE_MS = 1000;

export { redactUrl } from '../../redactUrl.js';

const SCHEMA = [
  'CREATE SEQUENCE IF NOT EXISTS hil_lease_token AS bigint',
  `CREATE TABLE IF NOT EXISTS hil_leases (
    key text PRIMARY KEY,
    token bigint NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    ci_job text,
    what text NOT NULL,
    since timestamptz NOT NULL,
    renewed timestamptz NOT NULL,
    expires timestamptz NOT NULL,
    ended text
  )`,
  // The holder's fence cache (ms): a broken grant is not granted again before it has passed.
  // 0 for rows of a hil without a fence cache (they query at every fence).
  'ALTER TABLE hil_leases ADD COLUMN IF NOT EXISTS fence_ms integer NOT NULL DEFAULT 0',
];

const COLUMNS = `key, token, host, pid, ci_job, what, since, renewed, expires, ended, (ended IS NULL AND expires > now()) AS live,
  (extract(epoch FROM (expires - now())) * 1000)::float8 AS left_ms`;

interface Row {
  key: string;
  token: string;
  host: string;
  pid: number;
  ci_job: string | null;
  what: string;
  since: Date;
  renewed: Date;
  expires: Date;
  ended: string | null;
  live: boolean;
  /** ms from the server's now() to `expires` (negative once expired). */
  left_ms: number;
}


export class PgLeaseStore implements LeaseStore {
  readonly kind = 'postgres' as const;
  readonly where: string;
  readonly ttlMs: number;
  /** How long a fence answer is trusted (see the file's header). */
  readonly fenceCacheMs: number;
  /** Deadline of one query or connection (ms). */
  readonly queryTimeoutMs: number;
  private readonly url: string;
  private pool: Promise<pg.Pool> | null = null;
  private ready: Promise<void> | null = null;
  private readonly held = new Set<PgLease>();

  constructor(opts: PgLeaseOptions) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.fenceCacheMs = Math.max(0, Math.min(MAX_FENCE_CACHE_MS, opts.fenceCacheMs ?? Math.floor(this.ttlMs / 10)));
    const u = new URL(opts.url);
    this.where = `postgres ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
    this.url = opts.url;
  }

  /**
   * The connection pool, made at the first query: `pg` is loaded only by a command that uses
   * PostgreSQL leases (every `hil exec` and `hil run` opens a lease store; with file leases, the
   * default, loading pg was 50-80 ms of every such command's start-up here).
   */
  private connection(): Promise<pg.Pool> {
    this.pool ??= import('pg').then(({ default: pgm }) => {
      const pool = new pgm.Pool({
        connectionString: this.url,
        max: 4,
        connectionTimeoutMillis: this.queryTimeoutMs,
        query_timeout: this.queryTimeoutMs,
        idleTimeoutMillis: 10_000,
        allowExitOnIdle: true,
        application_name: `hil ${process.pid}`,
      });
      // An idle client that loses its server must not crash the process; the next query reports it.
      pool.on('error', () => undefined);
      return pool;
    }, (e: Error) => {
      throw new InfraError(`leases in ${this.where}: the PostgreSQL client (npm package pg) cannot be loaded: ${e.message}`, 'lease', { cause: e });
    });
    return this.pool;
  }

  /** A query with the store's deadline; a database that cannot be reached is an InfraError naming it. */
  async query<R extends object = Row>(sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      const r = await (await this.connection()).query(sql, params);
      return r.rows as R[];
    } catch (e) {
      if (e instanceof InfraError) throw e; // already says which store and why (pg not loaded)
      throw new InfraError(`leases in ${this.where}: ${this.explain(e as Error)}`, 'lease', { cause: e });
    }
  }

  /** pg's timeout messages ('timeout expired', 'Query read timeout') said as the deadline they are. */
  private explain(e: Error): string {
    const m = e.message;
    if (/timeout expired|Connection terminated due to connection timeout/i.test(m)) return `cannot connect within ${this.queryTimeoutMs} ms (the lease store's database deadline): ${m}`;
    if (/Query read timeout/i.test(m)) return `no answer within ${this.queryTimeoutMs} ms (the lease store's database deadline): ${m}`;
    return m;
  }

  /** Create the table and sequence once (concurrent hil processes serialised by an advisory lock). */
  private ensureSchema(): Promise<void> {
    this.ready ??= (async () => {
      const c = await (await this.connection()).connect().catch((e: Error) => {
        throw new InfraError(`leases in ${this.where}: ${/within \d+ ms/.test(this.explain(e)) ? this.explain(e) : `cannot connect: ${e.message}`}`, 'lease', { cause: e });
      });
      try {
        await c.query('BEGIN');
        await c.query(`SELECT pg_advisory_xact_lock(hashtext('hil_leases schema'))`);
        for (const s of SCHEMA) await c.query(s);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw new InfraError(`leases in ${this.where}: cannot create the lease table: ${(e as Error).message}`, 'lease', { cause: e });
      } finally {
        c.release();
      }
    })();
    this.ready.catch(() => (this.ready = null));
    return this.ready;
  }

  record(r: Row): LeaseRecord {
    return { key: r.key, token: Number(r.token), host: r.host, pid: r.pid, ciJob: r.ci_job, what: r.what, since: r.since.toISOString(), expires: r.expires.toISOString(), live: r.live, where: this.where };
  }

  async acquire(key: string, opts: AcquireOptions = {}): Promise<HeldLease> {
    await this.ensureSchema();
    const me: Omit<LeaseHolderInfo, 'since'> = { host: hostname(), pid: process.pid, ciJob: ciJobOf(), what: opts.what ?? process.argv.slice(1).join(' ') };
    const deadline = Date.now() + (opts.waitMs ?? 0);
    let told = false;
    for (;;) {
      const sentAt = Date.now();
      const sentMono = performance.now();
      const got = await this.query(
        // Free: past its expiry. A release sets expires = now(); a break sets it no earlier than
        // the holder's fence cache from now (see the header), so both are covered by this one test.
        `INSERT INTO hil_leases AS l (key, token, host, pid, ci_job, what, since, renewed, expires, ended, fence_ms)
         VALUES ($1, nextval('hil_lease_token'), $2, $3, $4, $5, now(), now(), now() + make_interval(secs => $6::double precision), NULL, $7)
         ON CONFLICT (key) DO UPDATE SET token = nextval('hil_lease_token'), host = EXCLUDED.host, pid = EXCLUDED.pid,
           ci_job = EXCLUDED.ci_job, what = EXCLUDED.what, since = now(), renewed = now(), expires = EXCLUDED.expires, ended = NULL,
           fence_ms = EXCLUDED.fence_ms
         WHERE l.expires <= now()
         RETURNING ${COLUMNS}`,
        [key, me.host, me.pid, me.ciJob, me.what, this.ttlMs / 1000, this.fenceCacheMs],
      );
      if (got[0]) {
        const lease = new PgLease(this, this.record(got[0]), sentAt, sentMono, got[0].left_ms);
        this.held.add(lease);
        return lease;
      }
      const [row] = await this.query(`SELECT ${COLUMNS} FROM hil_leases WHERE key = $1`, [key]);
      const current = row?.live ? this.record(row) : null;
      if (Date.now() >= deadline || opts.signal?.aborted) {
        const waited = opts.waitMs ? ` after waiting ${(opts.waitMs / 1000).toFixed(1)} s` : '';
        const h: LeaseHolder | null = current ? { pid: current.pid, start: null, host: current.host, what: current.what, since: current.since, key, ciJob: current.ciJob } : null;
        const exp = current ? `, token ${current.token}, expires ${current.expires} unless renewed` : '';
        throw new LeaseBusyError(`device ${key} is leased by ${describeHolder(current)}${exp}${waited} (${this.where})`, h);
      }
      if (!told) {
        told = true;
        opts.onWait?.(current);
      }
      await sleep(Math.min(opts.pollMs ?? 100, Math.max(1, deadline - Date.now())), opts.signal);
    }
  }

  async list(opts: { all?: boolean } = {}): Promise<LeaseRecord[]> {
    await this.ensureSchema();
    const rows = await this.query(`SELECT ${COLUMNS} FROM hil_leases ${opts.all ? '' : 'WHERE ended IS NULL AND expires > now()'} ORDER BY key`);
    return rows.map((r) => this.record(r));
  }

  async breakLease(key: string, by: string): Promise<LeaseRecord | null> {
    await this.ensureSchema();
    const rows = await this.query(
      `WITH old AS (SELECT ${COLUMNS} FROM hil_leases WHERE key = $1 AND ended IS NULL AND expires > now() FOR UPDATE)
       UPDATE hil_leases l SET ended = $2, expires = LEAST(l.expires, now() + make_interval(secs => l.fence_ms / 1000.0))
       FROM old WHERE l.key = old.key AND l.token = old.token
       RETURNING old.*`,
      [key, by],
    );
    return rows[0] ? this.record(rows[0]) : null;
  }

  forget(l: PgLease): void {
    this.held.delete(l);
  }

  /** Stop every heartbeat (leases then end after their TTL) and close the pool. */
  async close(): Promise<void> {
    for (const l of [...this.held]) await l.release().catch(() => undefined);
    // No pool when nothing was asked of the database (pg not even loaded).
    if (this.pool) await (await this.pool).end().catch(() => undefined);
  }

  /** Synchronous last resort: stop the heartbeats (the leases end after their TTL). */
  closeNow(): void {
    for (const l of [...this.held]) l.releaseNow();
  }
}

class PgLease implements HeldLease {
  readonly key: string;
  readonly holder: LeaseHolderInfo;
  readonly token: number;
  readonly where: string;
  private timer: NodeJS.Timeout | null;
  /** Date.now() when the last renewal the database confirmed was sent. */
  private confirmedSentAt: number;
  private lost: LeaseLostError | null = null;
  private released = false;
  private renewing: Promise<void> | null = null;
  /** performance.now() until which the grant is known to be ours without asking (the fence cache). */
  private trustedUntil = -Infinity;

  constructor(private readonly store: PgLeaseStore, r: LeaseRecord, sentAt: number, sentMono: number, leftMs: number) {
    this.key = r.key;
    this.holder = { host: r.host, pid: r.pid, ciJob: r.ciJob, what: r.what, since: r.since };
    this.token = r.token!;
    this.where = `${store.where} (lease ${r.key}, token ${r.token})`;
    this.confirmedSentAt = sentAt;
    this.trust(sentMono, leftMs);
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(store.ttlMs / 3)));
    this.timer.unref();
  }

  /**
   * A read sent at monotonic time `sentMono` saw our grant live with `leftMs` to go on the
   * server's clock: nobody else can be granted the board before sentMono + leftMs (the server ran
   * the read after we sent it), nor, after a break, before fenceCacheMs from the break (which came
   * after the read). The fence trusts it up to the earlier of the two.
   */
  private trust(sentMono: number, leftMs: number): void {
    const until = sentMono + Math.min(leftMs, this.store.fenceCacheMs);
    if (until > this.trustedUntil) this.trustedUntil = until;
  }

  /** One heartbeat: extend our grant; a grant that is no longer ours stops the heartbeat. */
  renew(): Promise<void> {
    if (this.released || this.lost) return Promise.resolve();
    this.renewing ??= (async () => {
      const sentAt = Date.now();
      const sentMono = performance.now();
      try {
        const rows = await this.store.query<{ left_ms: number }>(
          `UPDATE hil_leases SET renewed = now(), expires = now() + make_interval(secs => $3::double precision)
           WHERE key = $1 AND token = $2 AND ended IS NULL AND expires > now()
           RETURNING (extract(epoch FROM (expires - now())) * 1000)::float8 AS left_ms`,
          [this.key, this.token, this.store.ttlMs / 1000],
        );
        if (rows.length) {
          this.confirmedSentAt = sentAt;
          this.trust(sentMono, rows[0]!.left_ms);
        } else if (!this.released) {
          // Not ours on the server any more: the cache must not answer for it.
          this.trustedUntil = -Infinity;
          await this.fence().catch(() => undefined); // records why it was lost
        }
      } catch { /* unreachable: fence() decides from the last confirmed renewal */ }
    })().finally(() => (this.renewing = null));
    return this.renewing;
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private lose(message: string, now: LeaseRecord | null): never {
    this.stop();
    this.lost = new LeaseLostError(`lease on ${this.key} lost: ${message}; stopped before the next board operation (${this.store.where})`, this.key, now);
    throw this.lost;
  }

  async fence(): Promise<void> {
    if (this.lost) throw this.lost;
    if (this.released) throw new LeaseLostError(`lease on ${this.key} was released by this process`, this.key, null);
    // Within the fence cache: no other runner can have been granted the board (see trust()).
    if (performance.now() < this.trustedUntil) return;
    let row: Row | undefined;
    const sentMono = performance.now();
    try {
      [row] = await this.store.query<Row>(`SELECT ${COLUMNS} FROM hil_leases WHERE key = $1`, [this.key]);
    } catch (e) {
      // The database cannot be reached: ours only while no other runner can have been granted it.
      const margin = Math.min(1000, this.store.ttlMs / 10);
      const since = Date.now() - this.confirmedSentAt;
      if (since < this.store.ttlMs - margin) return;
      this.lose(`not renewed for ${(since / 1000).toFixed(1)} s (TTL ${this.store.ttlMs / 1000} s) and the database cannot be reached (${(e as Error).message}); another runner may hold it`, null);
    }
    if (!row) this.lose('its row is gone from the database', null);
    const now = this.store.record(row);
    if (Number(row.token) !== this.token) {
      const state = now.live ? `now held by ${describeHolder(now)}, token ${now.token}` : `granted since to ${describeHolder(now)}, token ${now.token} (${row.ended ?? 'expired'})`;
      this.lose(`${state}; ours was token ${this.token}`, now.live ? now : null);
    }
    if (row.ended) this.lose(`${row.ended} (token ${this.token})`, null);
    if (!row.live) this.lose(`expired at ${now.expires} (not renewed within its TTL of ${this.store.ttlMs / 1000} s)`, null);
    this.trust(sentMono, row.left_ms);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.stop();
    this.store.forget(this);
    await this.renewing?.catch(() => undefined);
    await this.store
      .query(`UPDATE hil_leases SET ended = 'released', expires = now() WHERE key = $1 AND token = $2 AND ended IS NULL`, [this.key, this.token])
      .catch(() => undefined); // unreachable: the lease ends after its TTL
  }

  releaseNow(): void {
    this.released = true;
    this.stop();
    this.store.forget(this);
  }
}
