/**
 * Which lease store a command uses: `--leases URL`, else the bench file's `leases:`, else
 * $HIL_LEASES, else local lock files. `postgres://` / `postgresql://` is PostgreSQL; `file` (or
 * nothing) the lock files; `file:DIR` lock files in DIR.
 */
import { UsageError } from '../../errors.js';
import { FileLeaseStore } from './file.js';
import { PgLeaseStore, DEFAULT_TTL_MS, redactUrl } from './postgres.js';
import type { LeaseStore } from './types.js';

export * from './types.js';
export { FileLeaseStore } from './file.js';
export { PgLeaseStore, DEFAULT_TTL_MS, redactUrl } from './postgres.js';

export interface LeaseStoreOptions {
  /** `postgres://...`, `file`, `file:DIR`, or undefined (then $HIL_LEASES, else lock files). */
  leases?: string;
  /** Lock folder for file leases (default $HIL_LOCK_DIR, ...: see lease.ts). */
  lockDir?: string;
  /** TTL of PostgreSQL leases (ms). */
  ttlMs?: number;
}

/** The spec in force: the given one, else $HIL_LEASES. */
export function leasesSpec(leases?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return leases ?? (env.HIL_LEASES || undefined);
}

export function openLeaseStore(opts: LeaseStoreOptions = {}): LeaseStore {
  const spec = leasesSpec(opts.leases);
  if (opts.ttlMs !== undefined && (!Number.isFinite(opts.ttlMs) || opts.ttlMs < 1000)) throw new UsageError(`--lease-ttl must be at least 1 second (got ${opts.ttlMs / 1000})`);
  if (spec === undefined || spec === 'file') return new FileLeaseStore(opts.lockDir);
  if (spec.startsWith('file:')) return new FileLeaseStore(spec.slice(5) || opts.lockDir);
  if (/^postgres(ql)?:\/\//.test(spec)) {
    try {
      new URL(spec);
    } catch {
      throw new UsageError(`leases '${redactUrl(spec)}': not a valid postgres:// URL`);
    }
    return new PgLeaseStore({ url: spec, ttlMs: opts.ttlMs ?? DEFAULT_TTL_MS });
  }
  throw new UsageError(`leases '${redactUrl(spec)}': expected postgres://USER:PASS@HOST:PORT/DB, file or file:DIR`);
}
