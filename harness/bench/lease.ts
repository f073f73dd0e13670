/**
 * Exclusive leases on devices, respected by every hil process on the machine and never left behind
 * by a crashed one. A lease is a lock file `<lockDir>/<key>.lock` created atomically (`wx`) holding
 * the holder's PID, its process start time (from /proc, so a recycled PID is not mistaken for the
 * holder), host and command. A waiter that finds a lock whose holder is gone (no such process, or
 * a different process under that PID) removes it, under a short-lived break lock so two waiters
 * never both break and then both take it. Waiting has a deadline.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync, statSync, type BigIntStats } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfraError } from '../errors.js';
import { processAlive, processStart } from '../lifecycle/process.js';
import { ciJobOf } from './leases/types.js';

export interface LeaseHolder {
  pid: number;
  /** Process start time from /proc/<pid>/stat (clock ticks since boot), null where unavailable. */
  start: string | null;
  host: string;
  /** What holds it (command line or label). */
  what: string;
  /** ISO time the lease was taken. */
  since: string;
  key: string;
  /** The CI job the holder runs in (see leases/types.ts ciJobOf), null outside CI. */
  ciJob?: string | null;
  /** This grant's random id: two grants in one process within one millisecond are still told apart. */
  grant?: string;
}

export interface Lease {
  readonly key: string;
  readonly file: string;
  readonly holder: LeaseHolder;
  /**
   * Whether the lock file is still ours, as cheaply as that can be known: one stat of its path.
   * We keep our lock file open for as long as we hold the lease, so its inode cannot be freed
   * and handed to another file: the path naming that inode, with the size and change times it had
   * when we wrote it, is our lock unchanged (nobody writes into a lock file; a break renames it
   * away and a later grant creates a new file). Anything else (gone, another inode, written
   * since) is decided by reading the file, as before: true only when it still holds our grant.
   */
  isOurs(): boolean;
  /** Give the lease back (idempotent; only removes the file if it is still ours). */
  release(): void;
}

export interface LeaseOptions {
  /** Lock folder (default $HIL_LOCK_DIR, else $XDG_RUNTIME_DIR/hil, else <tmpdir>/hil-locks). */
  dir?: string;
  /** How long to wait for a busy lease before giving up (ms, default 0 = do not wait). */
  waitMs?: number;
  /** Poll interval while waiting (ms, default 100). */
  pollMs?: number;
  /** Label stored in the lock file (default: this process's command line). */
  what?: string;
  /** Called once when the lease is busy and we start waiting. */
  onWait?: (holder: LeaseHolder | null) => void;
  /** Abort waiting. */
  signal?: AbortSignal;
}

/** The lease is held by another live process and the deadline passed (exit 3). */
export class LeaseBusyError extends InfraError {
  readonly holder: LeaseHolder | null;
  constructor(message: string, holder: LeaseHolder | null) {
    super(message, 'lease');
    this.holder = holder;
  }
}

export function defaultLockDir(): string {
  if (process.env.HIL_LOCK_DIR) return process.env.HIL_LOCK_DIR;
  if (process.env.XDG_RUNTIME_DIR) return join(process.env.XDG_RUNTIME_DIR, 'hil');
  return join(tmpdir(), 'hil-locks');
}

/** A file name for a lease key (connection strings hold '/' and ':'): readable part + short hash. */
export function lockFileName(key: string): string {
  const readable = key.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 60) || 'device';
  const h = createHash('sha256').update(key).digest('hex').slice(0, 10);
  return `${readable}-${h}.lock`;
}

export { processStart, processAlive };

/** Whether the process that wrote `h` still runs (same host only; other hosts are trusted). */
export function holderAlive(h: LeaseHolder): boolean {
  if (h.host !== hostname()) return true;
  if (!processAlive(h.pid)) return false;
  if (h.start !== null) {
    const now = processStart(h.pid);
    if (now !== null && now !== h.start) return false; // PID reused by another process
  }
  return true;
}

export function readHolder(file: string): LeaseHolder | null {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as LeaseHolder;
    if (typeof h.pid !== 'number') return null;
    return h;
  } catch {
    return null;
  }
}

function tryCreate(file: string, holder: LeaseHolder): boolean {
  const fd = tryCreateOpen(file, holder);
  if (fd === null) return false;
  closeSync(fd);
  return true;
}

/** tryCreate, the file left open (its descriptor), null when it exists. */
function tryCreateOpen(file: string, holder: LeaseHolder): number | null {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return null;
    throw new InfraError(`lease ${holder.key}: cannot create lock file ${file}: ${(e as Error).message}`, 'lease');
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** The attributes of a lock file that change when it is replaced or written (see Lease.isOurs). */
const sameFile = (a: BigIntStats, b: BigIntStats) => a.ino === b.ino && a.dev === b.dev && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;

const sameGrant = (a: LeaseHolder | null, b: LeaseHolder) => a !== null && a.pid === b.pid && a.host === b.host && a.since === b.since && a.start === b.start && a.grant === b.grant;

/** How old (ms) a file is, Infinity when it does not exist. */
function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

/**
 * Remove `file` if its holder is gone. Returns true when it removed it (or it had vanished).
 * A lock file that cannot be parsed is only treated as stale once it is older than 5 s (it may be
 * a holder between creating the file and writing into it).
 */
function breakIfStale(file: string): boolean {
  const h = readHolder(file);
  if (h === null ? ageMs(file) < 5000 : holderAlive(h)) return false;
  const brk = `${file}.break`;
  const me: LeaseHolder = { pid: process.pid, start: processStart(process.pid), host: hostname(), what: 'break', since: new Date().toISOString(), key: file };
  if (!tryCreate(brk, me)) {
    const other = readHolder(brk);
    if ((other && holderAlive(other)) || (!other && ageMs(brk) < 5000)) return false;
    try {
      unlinkSync(brk);
    } catch { /* someone else did */ }
    if (!tryCreate(brk, me)) return false;
  }
  try {
    // Re-read under the break lock: the file may have been replaced by a live holder meanwhile.
    const again = readHolder(file);
    const stillStale = again === null ? ageMs(file) >= 5000 : !holderAlive(again);
    if (!stillStale) return false;
    const grave = `${file}.stale-${process.pid}`;
    try {
      renameSync(file, grave);
      unlinkSync(grave);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return true;
  } finally {
    try {
      unlinkSync(brk);
    } catch { /* gone */ }
  }
}

function describeHolder(h: LeaseHolder | null): string {
  if (!h) return 'an unknown holder';
  const job = h.ciJob ? `, CI job ${h.ciJob}` : '';
  return `PID ${h.pid} on ${h.host}${job} since ${h.since} (${h.what.slice(0, 80)})`;
}

/** Wait `ms`, or until `signal` aborts (its listener removed either way: a long wait polls many times). */
export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/** Take the lease on `key`, waiting up to `waitMs`; throws LeaseBusyError naming the holder. */
export async function acquireLease(key: string, opts: LeaseOptions = {}): Promise<Lease> {
  const dir = opts.dir ?? defaultLockDir();
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw new InfraError(`lease ${key}: cannot create lock folder ${dir}: ${(e as Error).message}`, 'lease');
  }
  const file = join(dir, lockFileName(key));
  const holder: LeaseHolder = {
    pid: process.pid,
    start: processStart(process.pid),
    host: hostname(),
    what: opts.what ?? process.argv.slice(1).join(' '),
    since: new Date().toISOString(),
    key,
    ciJob: ciJobOf(),
    grant: randomBytes(8).toString('hex'),
  };
  const deadline = Date.now() + (opts.waitMs ?? 0);
  let told = false;
  let fd: number | null = null;
  for (;;) {
    fd = tryCreateOpen(file, holder);
    if (fd !== null) break;
    if (breakIfStale(file)) continue;
    const current = readHolder(file);
    if (current && current.pid === process.pid && current.host === holder.host) {
      throw new LeaseBusyError(`lease ${key}: already held by this process (${file})`, current);
    }
    if (Date.now() >= deadline || opts.signal?.aborted) {
      const waited = opts.waitMs ? ` after waiting ${(opts.waitMs / 1000).toFixed(1)} s` : '';
      throw new LeaseBusyError(`device ${key} is leased by ${describeHolder(current)}${waited} (lock file ${file})`, current);
    }
    if (!told) {
      told = true;
      opts.onWait?.(current);
    }
    await sleep(Math.min(opts.pollMs ?? 100, Math.max(1, deadline - Date.now())), opts.signal);
  }
  let released = false;
  // Held open until release (see isOurs); what it looked like once written.
  const held = fd;
  let written: BigIntStats = fstatSync(held, { bigint: true });
  return {
    key,
    file,
    holder,
    isOurs() {
      if (released) return false;
      const now = statSync(file, { bigint: true, throwIfNoEntry: false });
      if (now && sameFile(now, written)) return true;
      // Changed or gone: the contents decide (a lock touched but still ours stays ours).
      if (!now || now.ino !== written.ino || now.dev !== written.dev || !sameGrant(readHolder(file), holder)) return false;
      written = now;
      return true;
    },
    release() {
      if (released) return;
      released = true;
      try {
        const h = readHolder(file);
        if (h && h.pid === holder.pid && h.since === holder.since && h.host === holder.host && h.grant === holder.grant) {
          try {
            unlinkSync(file);
          } catch { /* already gone */ }
        }
      } finally {
        closeSync(held);
      }
    },
  };
}

/**
 * Remove the lock files in `dir` whose holder is provably gone (same host, PID dead or now another
 * process): what a SIGKILLed hil left. Done under the same break lock as a waiter uses, so a lock
 * a live process has just taken is never removed. Returns the lock files removed.
 */
export function reclaimStaleLeases(dir: string = defaultLockDir()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const file = join(dir, n);
    if (n.endsWith('.lock')) {
      const h = readHolder(file);
      if (h && !holderAlive(h)) {
        try {
          if (breakIfStale(file)) removed.push(file);
        } catch { /* another hil is at it */ }
      }
    } else if (/\.lock\.(break|stale-\d+)$/.test(n)) {
      // A break lock or grave left by a process killed in the middle of breaking.
      const h = readHolder(file);
      if (h && !holderAlive(h)) {
        try {
          unlinkSync(file);
          removed.push(file);
        } catch { /* gone */ }
      }
    }
  }
  return removed;
}
