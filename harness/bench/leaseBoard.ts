/**
 * The one place a board-touching command takes its board's lease and is fenced by it (issue 16).
 * Every command that drives a board (`hil run` and `hil run --bench` (runBench.ts), `exec`, `flash`,
 * `repl`, `devices`' probe of a remote port) holds the lease keyed by the board's identity (boardKey.ts) in the store the bench
 * names (`--leases`, the bench file's `leases:`, $HIL_LEASES, else this host's lock files), with
 * the same TTL and wait options, released with the command's scope. Then nothing reaches the board
 * unless the lease is still ours:
 * - a device (ReplDevice) calls `lease.fence()` before every board operation (its
 *   `beforeOperation` hook: openTarget.ts `takeBoard`);
 * - a raw link (hil repl's passthrough) is wrapped by `fencedTransport`, which fences each write.
 * A lease that is no longer ours stops the command with LeaseLostError (exit 3) naming who holds
 * the board now, before the byte is sent.
 */
import type { Scope } from '../lifecycle/scope.js';
import type { Transport } from '../transport/transport.js';
import type { BenchTarget } from './inventory.js';
import { boardKey } from './boardKey.js';
import { openLeaseStore, type HeldLease, type LeaseRecord, type LeaseStore } from './leases/index.js';

export interface BoardLeaseOptions {
  /** How long to wait for a board another hil holds (ms, default 0: refuse at once, naming the holder). */
  waitMs?: number;
  lockDir?: string;
  /** Label stored with the lease. */
  what?: string;
  /** Where leases live (`postgres://...`, `file`, `file:DIR`); default $HIL_LEASES, else lock files (leases/index.ts). */
  leases?: string;
  /** TTL of a PostgreSQL lease (ms). */
  leaseTtlMs?: number;
  /** Called once when the board is leased by another holder and we start waiting. */
  onWait?: (holder: LeaseRecord | null) => void;
  /**
   * A store the caller opened and closes (the workers of one `hil run --bench` share one: one
   * pool of database connections, not one per board); then `leases`, `lockDir` and `leaseTtlMs`
   * are the caller's business. Default: opened from those, closed with the lease.
   */
  store?: LeaseStore;
  /** The board's lease key when the caller has it already (runBench checks every key first). Default: boardKey(t). */
  key?: string;
  /** Abort waiting for a busy board (default: the scope's signal). */
  signal?: AbortSignal;
}

/** A lease held in a scope, given back by `release()` (or with the scope, whichever comes first). */
export interface ScopedLease {
  readonly lease: HeldLease;
  release(): Promise<void>;
}

/**
 * Take the board's lease (its identity as key; see boardKey.ts), released with the scope: every
 * command that talks to a board holds it, so two hil processes never drive one board.
 */
export async function leaseBoard(t: Pick<BenchTarget, 'connection'>, scope: Scope, opts: BoardLeaseOptions = {}): Promise<HeldLease> {
  return (await takeLease(t, scope, opts)).lease;
}

/** `fn` under the board's lease, given back as soon as `fn` ends (a probe: `hil devices`). */
export async function whileLeased<T>(t: Pick<BenchTarget, 'connection'>, scope: Scope, opts: BoardLeaseOptions, fn: (lease: HeldLease) => Promise<T>): Promise<T> {
  const held = await takeLease(t, scope, opts);
  try {
    return await fn(held.lease);
  } finally {
    await held.release();
  }
}

/**
 * Take the board's lease in `scope` and hand back how to give it back early: for a command that
 * gives its board back before its scope ends (`hil run --bench`: each board's lease goes as soon
 * as that board is closed, the others still at work).
 */
export async function takeLease(t: Pick<BenchTarget, 'connection'>, scope: Scope, opts: BoardLeaseOptions = {}): Promise<ScopedLease> {
  const key = opts.key ?? (await boardKey(t));
  const store = opts.store ?? openLeaseStore({ leases: opts.leases, lockDir: opts.lockDir, ttlMs: opts.leaseTtlMs });
  const storeHeld = opts.store ? null : scope.defer(`leases ${store.where}`, () => store.close());
  let lease: HeldLease;
  try {
    lease = await store.acquire(key, { waitMs: opts.waitMs ?? 0, what: opts.what, signal: opts.signal ?? scope.signal, onWait: opts.onWait });
  } catch (e) {
    await storeHeld?.release();
    throw e;
  }
  const taken = lease;
  const leaseHeld = scope.defer(`lease ${key}`, () => taken.release(), () => taken.releaseNow());
  return {
    lease,
    release: async () => {
      await leaseHeld.release();
      await storeHeld?.release();
    },
  };
}

/**
 * `t` with every write fenced by `lease`: the write waits for `lease.fence()` and is not sent
 * when it throws (the LeaseLostError is the write's error). Reads, open and close pass through.
 */
export function fencedTransport(t: Transport, lease: Pick<HeldLease, 'fence'>): Transport {
  return new Proxy(t, {
    get(target, prop) {
      if (prop === 'write') {
        return async (data: Uint8Array | string) => {
          await lease.fence();
          return target.write(data);
        };
      }
      const v = Reflect.get(target, prop);
      return typeof v === 'function' ? v.bind(target) : v;
    },
    set(target, prop, value) {
      return Reflect.set(target, prop, value);
    },
  });
}
