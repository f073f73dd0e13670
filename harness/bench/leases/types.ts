/**
 * One lease interface, two implementations: local lock files (file.ts, the default: every hil on
 * one host) and PostgreSQL (postgres.ts: hil processes on several hosts sharing one bench). A lease
 * names one board (its identity: ../boardKey.ts). Whoever holds it may drive the board; before
 * each board operation the holder's device layer calls `fence()`, which throws LeaseLostError
 * (naming who has the board now) once the lease is no longer this holder's.
 */
import { InfraError } from '../../errors.js';

/** Who holds (or held) a lease. */
export interface LeaseHolderInfo {
  host: string;
  pid: number;
  /** The CI job it runs in (HIL_CI_JOB, GITHUB_RUN_ID, CI_JOB_ID or BUILD_TAG), null outside CI. */
  ciJob: string | null;
  /** What holds it (command line or label). */
  what: string;
  /** ISO time the lease was granted. */
  since: string;
}

/** A lease as `hil lease list` shows it. */
export interface LeaseRecord extends LeaseHolderInfo {
  key: string;
  /** Fencing token: increases with every grant (PostgreSQL); null for file leases. */
  token: number | null;
  /** ISO time it expires unless renewed (PostgreSQL); null for file leases (held while the PID lives). */
  expires: string | null;
  /** Whether it is held now (file: holder alive; PostgreSQL: not released, broken or expired). */
  live: boolean;
  /** Where it lives: the lock file, or the database. */
  where: string;
}

export interface AcquireOptions {
  /** How long to wait for a busy lease before giving up (ms, default 0 = do not wait). */
  waitMs?: number;
  /** Poll interval while waiting (ms, default 100). */
  pollMs?: number;
  /** Label stored with the lease (default: this process's command line). */
  what?: string;
  /** Called once when the lease is busy and we start waiting. */
  onWait?: (holder: LeaseRecord | null) => void;
  /** Abort waiting. */
  signal?: AbortSignal;
}

/** A lease this process holds. */
export interface HeldLease {
  readonly key: string;
  readonly holder: LeaseHolderInfo;
  /** Fencing token of this grant (PostgreSQL), null for file leases. */
  readonly token: number | null;
  /** Where it lives, for messages (lock file path, or `postgres HOST/DB`). */
  readonly where: string;
  /** Throws LeaseLostError when the lease is no longer ours; called before every board operation. */
  fence(): Promise<void>;
  /** Give it back (idempotent; never takes back a lease someone else holds now). */
  release(): Promise<void>;
  /** Synchronous last resort on exit: stop renewing (PostgreSQL: the lease then ends after its TTL), unlink our lock file. */
  releaseNow(): void;
}

export interface LeaseStore {
  readonly kind: 'file' | 'postgres';
  /** Where the leases live, for messages (lock folder, or `postgres HOST/DB` without password). */
  readonly where: string;
  /** Take the lease on `key`, waiting up to `waitMs`; throws LeaseBusyError naming the holder. */
  acquire(key: string, opts?: AcquireOptions): Promise<HeldLease>;
  /** Leases held now (and, with `all`, ended or expired ones the store still knows). */
  list(opts?: { all?: boolean }): Promise<LeaseRecord[]>;
  /** End the lease on `key` whoever holds it; returns what it was, null when nobody held it. */
  breakLease(key: string, by: string): Promise<LeaseRecord | null>;
  close(): Promise<void>;
}

/** The lease is no longer ours (expired, broken, granted to another runner): stop before touching the board. */
export class LeaseLostError extends InfraError {
  readonly key: string;
  /** Who holds it now, when anybody does. */
  readonly newHolder: LeaseRecord | null;
  constructor(message: string, key: string, newHolder: LeaseRecord | null) {
    super(message, 'lease');
    this.key = key;
    this.newHolder = newHolder;
  }
}

/** A holder in one phrase: `PID 123 on cam-host-2 (CI job 77) since T: hil run ...`. */
export function describeHolder(h: LeaseHolderInfo | null | undefined): string {
  if (!h) return 'an unknown holder';
  const job = h.ciJob ? `, CI job ${h.ciJob}` : '';
  return `PID ${h.pid} on ${h.host}${job} since ${h.since} (${h.what.slice(0, 80)})`;
}

/** The CI job this process runs in, from the usual CI variables; null outside CI. */
export function ciJobOf(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.HIL_CI_JOB) return env.HIL_CI_JOB;
  if (env.GITHUB_RUN_ID) return `github ${env.GITHUB_REPOSITORY ?? ''} run ${env.GITHUB_RUN_ID}${env.GITHUB_RUN_ATTEMPT ? `.${env.GITHUB_RUN_ATTEMPT}` : ''}${env.GITHUB_JOB ? ` job ${env.GITHUB_JOB}` : ''}`.replace(/\s+/g, ' ');
  if (env.CI_JOB_ID) return `gitlab job ${env.CI_JOB_ID}`;
  if (env.BUILD_TAG) return env.BUILD_TAG;
  return null;
}
