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
 *
 * Times are the database server's (`now()`), so hosts' clocks need not agree. Release and break
 * keep the row (ended = why), so a fenced holder can be told what happened.
 */
import pg from 'pg';
import { hostname } from 'node:os';
import { InfraError } from '../../errors.js';
import { LeaseBusyError, sleep, type LeaseHolder } from '../lease.js';
import { LeaseLostError, ciJobOf, describeHolder, type AcquireOptions, type HeldLease, type LeaseHolderInfo, type LeaseRecord, type LeaseStore } from './types.js';

export interface PgLeaseOptions {
  /** `postgres://user:pass@host:port/db` */
  url: string;
  /** Lease time to live (ms, default 30000): how long a holder that stopped renewing keeps it. */
  ttlMs?: number;
  /** Deadline of one database round trip (ms, default min(5000, TTL/3)). */
  queryTimeoutMs?: number;
}

export const DEFAULT_TTL_MS = 30_000;

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
];

const COLUMNS = `key, token, host, pid, ci_job, what, since, renewed, expires, ended, (ended IS NULL AND expires > now()) AS live`;

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
}


export class PgLeaseStore implements LeaseStore {
  readonly kind = 'postgres' as const;
  readonly where: string;
  readonly ttlMs: number;
  private readonly pool: pg.Pool;
  private readonly queryTimeoutMs: number;
  private ready: Promise<void> | null = null;
  private readonly held = new Set<PgLease>();

  constructor(opts: PgLeaseOptions) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
    this.queryTimeoutMs = opts.queryTimeoutMs ?? Math.max(250, Math.min(5000, Math.floor(this.ttlMs / 3)));
    const u = new URL(opts.url);
    this.where = `postgres ${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
    this.pool = new pg.Pool({
      connectionString: opts.url,
      max: 4,
      connectionTimeoutMillis: this.queryTimeoutMs,
      query_timeout: this.queryTimeoutMs,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      application_name: `hil ${process.pid}`,
    });
    // An idle client that loses its server must not crash the process; the next query reports it.
    this.pool.on('error', () => undefined);
  }

  /** A query with the store's deadline; a database that cannot be reached is an InfraError naming it. */
  async query<R extends object = Row>(sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      const r = await this.pool.query(sql, params);
      return r.rows as R[];
    } catch (e) {
      throw new InfraError(`leases in ${this.where}: ${(e as Error).message}`, 'lease', { cause: e });
    }
  }

  /** Create the table and sequence once (concurrent hil processes serialised by an advisory lock). */
  private ensureSchema(): Promise<void> {
    this.ready ??= (async () => {
      const c = await this.pool.connect().catch((e: Error) => {
        throw new InfraError(`leases in ${this.where}: cannot connect: ${e.message}`, 'lease', { cause: e });
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
      const got = await this.query(
        `INSERT INTO hil_leases AS l (key, token, host, pid, ci_job, what, since, renewed, expires, ended)
         VALUES ($1, nextval('hil_lease_token'), $2, $3, $4, $5, now(), now(), now() + make_interval(secs => $6::double precision), NULL)
         ON CONFLICT (key) DO UPDATE SET token = nextval('hil_lease_token'), host = EXCLUDED.host, pid = EXCLUDED.pid,
           ci_job = EXCLUDED.ci_job, what = EXCLUDED.what, since = now(), renewed = now(), expires = EXCLUDED.expires, ended = NULL
         WHERE l.ended IS NOT NULL OR l.expires <= now()
         RETURNING ${COLUMNS}`,
        [key, me.host, me.pid, me.ciJob, me.what, this.ttlMs / 1000],
      );
      if (got[0]) {
        const lease = new PgLease(this, this.record(got[0]), sentAt);
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
       UPDATE hil_leases l SET ended = $2, expires = now() FROM old WHERE l.key = old.key AND l.token = old.token
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
    await this.pool.end().catch(() => undefined);
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

  constructor(private readonly store: PgLeaseStore, r: LeaseRecord, sentAt: number) {
    this.key = r.key;
    this.holder = { host: r.host, pid: r.pid, ciJob: r.ciJob, what: r.what, since: r.since };
    this.token = r.token!;
    this.where = `${store.where} (lease ${r.key}, token ${r.token})`;
    this.confirmedSentAt = sentAt;
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(store.ttlMs / 3)));
    this.timer.unref();
  }

  /** One heartbeat: extend our grant; a grant that is no longer ours stops the heartbeat. */
  renew(): Promise<void> {
    if (this.released || this.lost) return Promise.resolve();
    this.renewing ??= (async () => {
      const sentAt = Date.now();
      try {
        const rows = await this.store.query<{ expires: Date }>(
          `UPDATE hil_leases SET renewed = now(), expires = now() + make_interval(secs => $3::double precision)
           WHERE key = $1 AND token = $2 AND ended IS NULL AND expires > now() RETURNING expires`,
          [this.key, this.token, this.store.ttlMs / 1000],
        );
        if (rows.length) this.confirmedSentAt = sentAt;
        else if (!this.released) await this.fence().catch(() => undefined); // records why it was lost
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
    let row: Row | undefined;
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
