/**
 * The lease flags every board-touching command takes (`hil run`, `exec`, `flash`, `repl`,
 * `devices`), defined once: `--leases` (where leases live; default the bench file's `leases:`,
 * else $HIL_LEASES, else this host's lock files), `--lease-ttl` (seconds a PostgreSQL lease
 * outlives its last heartbeat) and `--lease-wait` (seconds to wait for a board another runner
 * holds). Checked before any board is touched; turned into harness/bench/leaseBoard.ts options.
 */
import type { Argv } from 'yargs';
import { UsageError } from '../errors.js';
import type { BoardLeaseOptions } from '../bench/leaseBoard.js';

export interface LeaseFlagArgs {
  leases?: string;
  leaseTtl: number;
  leaseWait: number;
}

export const DEFAULT_LEASE_TTL_S = 30;

export function withLeaseFlags<T>(y: Argv<T>, o: { waitDefault: number }): Argv<T & LeaseFlagArgs> {
  return y
    .option('lease-wait', { type: 'number', default: o.waitDefault, describe: 'seconds to wait for a device leased by another hil process' })
    .option('leases', { type: 'string', describe: "where leases live: postgres://USER:PASS@HOST/DB (shared by hil on several hosts) or file (this host's lock files; default, unless the bench file's 'leases:' or $HIL_LEASES says otherwise)" })
    .option('lease-ttl', { type: 'number', default: DEFAULT_LEASE_TTL_S, describe: "seconds a PostgreSQL lease outlives its last heartbeat (a killed runner's boards are free after this)" }) as unknown as Argv<T & LeaseFlagArgs>;
}

/** The flags checked (UsageError, exit 2, naming the flag). */
export function checkLeaseFlags(args: LeaseFlagArgs): void {
  if (!Number.isFinite(args.leaseWait) || args.leaseWait < 0) throw new UsageError(`--lease-wait must be a number of seconds >= 0 (got ${args.leaseWait})`);
  if (!Number.isFinite(args.leaseTtl) || args.leaseTtl < 1) throw new UsageError(`--lease-ttl must be a number of seconds >= 1 (got ${args.leaseTtl})`);
  if (args.leases !== undefined && args.leases.trim() === '') throw new UsageError('--leases is empty (an unset variable?): give postgres://USER:PASS@HOST/DB or file, or leave the flag out');
}

/** leaseBoard's options from the flags: `--leases`, else the bench file's `leases:` (`benchLeases`). */
export function leaseOptionsOf(args: LeaseFlagArgs, benchLeases?: string): Pick<BoardLeaseOptions, 'leases' | 'leaseTtlMs' | 'waitMs'> {
  checkLeaseFlags(args);
  return { leases: args.leases ?? benchLeases, leaseTtlMs: args.leaseTtl * 1000, waitMs: args.leaseWait * 1000 };
}
