/**
 * File leases (the default, one host): the lock files of ../lease.ts behind the LeaseStore
 * interface. The fence is the lock file itself: the lease is ours while the file still holds our
 * PID, start time and grant time; once it was broken (`hil lease break`) or taken over, the next
 * board operation stops with LeaseLostError naming the file's holder now. Checked with one stat of
 * the lock file (its inode, held open by us, size and times unchanged: ../lease.ts isOurs), not a
 * read and parse per operation (measured 56 us wall, 21 us CPU per fence; a stat is a few us).
 */
import { readdirSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLease, defaultLockDir, holderAlive, lockFileName, readHolder, type LeaseHolder } from '../lease.js';
import { LeaseLostError, describeHolder, type AcquireOptions, type HeldLease, type LeaseRecord, type LeaseStore } from './types.js';

function record(h: LeaseHolder, file: string): LeaseRecord {
  return { key: h.key, host: h.host, pid: h.pid, ciJob: h.ciJob ?? null, what: h.what, since: h.since, token: null, expires: null, live: holderAlive(h), where: file };
}


export class FileLeaseStore implements LeaseStore {
  readonly kind = 'file' as const;
  readonly where: string;

  constructor(readonly dir: string = defaultLockDir()) {
    this.where = `lock folder ${dir}`;
  }

  async acquire(key: string, opts: AcquireOptions = {}): Promise<HeldLease> {
    const file = join(this.dir, lockFileName(key));
    const lease = await acquireLease(key, {
      dir: this.dir,
      waitMs: opts.waitMs,
      pollMs: opts.pollMs,
      what: opts.what,
      signal: opts.signal,
      onWait: opts.onWait ? (h) => opts.onWait!(h ? record(h, file) : null) : undefined,
    });
    const mine = lease.holder;
    return {
      key,
      holder: { host: mine.host, pid: mine.pid, ciJob: mine.ciJob ?? null, what: mine.what, since: mine.since },
      token: null,
      where: lease.file,
      async fence() {
        // One stat per board operation (lease.ts isOurs); the file is read only when it changed.
        if (lease.isOurs()) return;
        const now = readHolder(lease.file);
        const who = now ? `now held by ${describeHolder({ ...now, ciJob: now.ciJob ?? null })}` : 'its lock file was removed (lease broken)';
        throw new LeaseLostError(`lease on ${key} lost: ${who}; stopped before the next board operation (${lease.file})`, key, now ? record(now, lease.file) : null);
      },
      async release() {
        lease.release();
      },
      releaseNow() {
        lease.release();
      },
    };
  }

  async list(opts: { all?: boolean } = {}): Promise<LeaseRecord[]> {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const out: LeaseRecord[] = [];
    for (const n of names.filter((x) => x.endsWith('.lock')).sort()) {
      const file = join(this.dir, n);
      const h = readHolder(file);
      if (!h) continue;
      const r = record(h, file);
      if (r.live || opts.all) out.push(r);
    }
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  async breakLease(key: string, by: string): Promise<LeaseRecord | null> {
    const file = join(this.dir, lockFileName(key));
    // Moved aside first, then read: what is reported is exactly the lock that was removed.
    const grave = `${file}.stale-${process.pid}`;
    try {
      renameSync(file, grave);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const h = readHolder(grave);
    try {
      unlinkSync(grave);
    } catch { /* gone */ }
    void by; // a file lease has no place to record who broke it; the holder's fence sees the file gone
    return h ? record(h, file) : null;
  }

  async close(): Promise<void> {}
}
