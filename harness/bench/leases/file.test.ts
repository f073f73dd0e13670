/**
 * File leases behind the lease interface: list, break (says whose), and the fence: a holder whose
 * lock file was broken or taken over is stopped naming who holds it now; its release never removes
 * the new holder's lock.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { lockFileName, processStart } from '../lease.js';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { getEventListeners } from 'node:events';
import { afterAll, describe, expect, it } from '@jest/globals';
import { FileLeaseStore, LeaseLostError, openLeaseStore } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'hil-file-lease-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('file leases', () => {
  it('list shows the holder; break says whose lease it was; the broken holder is fenced', async () => {
    const store = new FileLeaseStore(dir);
    const held = await store.acquire('tty/dev/pts/77', { what: 'runner A' });
    expect(held.token).toBeNull();
    await held.fence();
    const listed = await store.list();
    expect(listed).toEqual([expect.objectContaining({ key: 'tty/dev/pts/77', pid: process.pid, host: hostname(), what: 'runner A', live: true, token: null })]);
    const was = await store.breakLease('tty/dev/pts/77', 'test');
    expect(was).toMatchObject({ key: 'tty/dev/pts/77', what: 'runner A', pid: process.pid });
    expect(await store.breakLease('tty/dev/pts/77', 'test')).toBeNull();
    expect(await store.list()).toEqual([]);
    const e = await held.fence().then(() => null, (x: unknown) => x as Error);
    expect(e).toBeInstanceOf(LeaseLostError);
    expect(e!.message).toContain('lease on tty/dev/pts/77 lost: its lock file was removed (lease broken)');
  });

  it('a holder whose lock was taken over is fenced naming the new holder, and its release leaves the new lock', async () => {
    const store = openLeaseStore({ leases: `file:${dir}` });
    const a = await store.acquire('tcp/loopback:4000', { what: 'runner A' });
    await store.breakLease('tcp/loopback:4000', 'test');
    const b = await store.acquire('tcp/loopback:4000', { what: 'runner B' });
    const e = await a.fence().then(() => null, (x: unknown) => x as LeaseLostError);
    expect(e).toBeInstanceOf(LeaseLostError);
    expect(e!.message).toMatch(/lost: now held by PID \d+ on .* \(runner B\)/);
    expect(e!.newHolder).toMatchObject({ what: 'runner B' });
    await a.release();
    await b.fence();
    expect((await store.list()).map((r) => r.what)).toEqual(['runner B']);
    await b.release();
    expect(await store.list()).toEqual([]);
  });

  it('a long wait polls without piling abort listeners on the signal (one per poll was a leak warning)', async () => {
    const store = new FileLeaseStore(dir);
    // Held by another live process (PID 1 stands in for it).
    writeFileSync(join(dir, lockFileName('tty/dev/pts/78')), JSON.stringify({ pid: 1, start: processStart(1), host: hostname(), what: 'runner A', since: new Date().toISOString(), key: 'tty/dev/pts/78' }));
    const ac = new AbortController();
    const e = await store.acquire('tty/dev/pts/78', { waitMs: 400, pollMs: 5, signal: ac.signal }).then(() => null, (x: unknown) => x as Error);
    expect(e?.message).toContain('is leased by');
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await store.breakLease('tty/dev/pts/78', 'test');
  });

  it('a later grant to this same process in the same millisecond is another grant: the earlier one is fenced and its release leaves the later lock', async () => {
    const store = new FileLeaseStore(dir);
    const a = await store.acquire('tty/dev/pts/79', { what: 'runner A' });
    const file = join(dir, lockFileName('tty/dev/pts/79'));
    // The lock as a later grant would write it, with every field of A's but its grant id.
    const later = { ...JSON.parse(readFileSync(file, 'utf8')), grant: 'later-grant' };
    writeFileSync(file, JSON.stringify(later));
    await expect(a.fence()).rejects.toThrow(/lease on tty\/dev\/pts\/79 lost: now held by PID/);
    await a.release();
    expect(JSON.parse(readFileSync(file, 'utf8')).grant).toBe('later-grant');
    await store.breakLease('tty/dev/pts/79', 'test');
  });
});
