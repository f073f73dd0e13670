/**
 * Leases across real processes: a child Node process (running lease.ts transpiled as is) holds a
 * lease; this process must wait for it or be refused naming the holder, and must take it at once
 * when the holder was SIGKILLed (no stale lock left behind) or when its PID was recycled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import ts from 'typescript';
import { acquireLease, LeaseBusyError, lockFileName, processStart } from './lease.js';

const here = new URL('.', import.meta.url);
let work: string;
let lockDir: string;
let childScript: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'hil-lease-test-'));
  mkdirSync(join(work, 'harness', 'bench'), { recursive: true });
  mkdirSync(join(work, 'harness', 'lifecycle'), { recursive: true });
  mkdirSync(join(work, 'harness', 'bench', 'leases'), { recursive: true });
  for (const [src, dst] of [['./lease.ts', 'harness/bench/lease.js'], ['./leases/types.ts', 'harness/bench/leases/types.js'], ['../errors.ts', 'harness/errors.js'], ['../lifecycle/process.ts', 'harness/lifecycle/process.js']] as const) {
    const code = readFileSync(new URL(src, here), 'utf8');
    const out = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(join(work, dst), out);
  }
  writeFileSync(join(work, 'package.json'), '{"type":"module"}');
  childScript = join(work, 'hold.js');
  writeFileSync(childScript, `import { acquireLease } from './harness/bench/lease.js';
const [key, dir, holdMs] = process.argv.slice(2);
const lease = await acquireLease(key, { dir, waitMs: 10000, what: 'lease.test child' });
process.stdout.write('HELD ' + process.pid + ' ' + Date.now() + '\\n');
setTimeout(() => { const t = Date.now(); lease.release(); process.stdout.write('RELEASED ' + t + '\\n'); }, Number(holdMs));
`);
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (lockDir) rmSync(lockDir, { recursive: true, force: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function holder(key: string, holdMs: number): Promise<ChildProcess> {
  lockDir ??= mkdtempSync(join(tmpdir(), 'hil-locks-test-'));
  const c = spawn(process.execPath, [childScript, key, lockDir, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(c);
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`child did not take the lease: ${out}`)), 10_000);
    c.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('HELD')) {
        clearTimeout(t);
        resolve(c);
      }
    });
    c.on('exit', (code) => reject(new Error(`child exited ${code}: ${out}`)));
  });
}

const newDir = () => (lockDir = mkdtempSync(join(tmpdir(), 'hil-locks-test-')));

describe('device leases', () => {
  it('refuses a lease another live process holds, naming its PID, after the deadline', async () => {
    newDir();
    const c = await holder('/dev/ttyACM0', 60_000);
    const t0 = Date.now();
    const err = await acquireLease('/dev/ttyACM0', { dir: lockDir, waitMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseBusyError);
    expect((err as LeaseBusyError).exitCode).toBe(3);
    expect((err as Error).message).toContain(`device /dev/ttyACM0 is leased by PID ${c.pid}`);
    expect((err as Error).message).toContain('after waiting 0.3 s');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('waits for a holder that releases, then takes the lease', async () => {
    newDir();
    await holder('socket://127.0.0.1:4000', 400);
    let waited = false;
    const lease = await acquireLease('socket://127.0.0.1:4000', { dir: lockDir, waitMs: 10_000, onWait: () => { waited = true; } });
    expect(waited).toBe(true);
    expect(JSON.parse(readFileSync(lease.file, 'utf8')).pid).toBe(process.pid);
    lease.release();
    expect(existsSync(lease.file)).toBe(false);
  });

  it('takes over at once from a holder killed with SIGKILL (no stale lock)', async () => {
    newDir();
    const c = await holder('qemu-1', 60_000);
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
    expect(readdirSync(lockDir).length).toBe(1); // the dead holder's file is still there
    const lease = await acquireLease('qemu-1', { dir: lockDir, waitMs: 0 });
    expect(JSON.parse(readFileSync(lease.file, 'utf8')).pid).toBe(process.pid);
    lease.release();
    expect(readdirSync(lockDir)).toEqual([]);
  });

  it('treats a lock whose PID now belongs to another process (different start time) as stale', async () => {
    newDir();
    const file = join(lockDir, lockFileName('cam9'));
    // Our own parent's PID is alive, but the start time recorded does not match it.
    writeFileSync(file, JSON.stringify({ pid: process.ppid, start: '1', host: hostname(), what: 'old', since: '2020-01-01T00:00:00Z', key: 'cam9' }));
    expect(processStart(process.ppid)).not.toBe('1');
    const lease = await acquireLease('cam9', { dir: lockDir, waitMs: 0 });
    lease.release();
  });

  it('gives one lease at a time to many racing processes', async () => {
    newDir();
    const runs = [0, 1, 2, 3].map(() => {
      const c = spawn(process.execPath, [childScript, 'race', lockDir, '150'], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(c);
      let out = '';
      c.stdout!.on('data', (d) => (out += d));
      return new Promise<{ held: number; released: number }>((resolve, reject) =>
        c.on('exit', (code) => {
          const h = /HELD \d+ (\d+)/.exec(out);
          const r = /RELEASED (\d+)/.exec(out);
          if (code !== 0 || !h || !r) reject(new Error(`child ${code}: ${out}`));
          else resolve({ held: Number(h[1]), released: Number(r[1]) });
        }),
      );
    });
    const spans = (await Promise.all(runs)).sort((a, b) => a.held - b.held);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.held).toBeGreaterThanOrEqual(spans[i - 1]!.released);
    expect(readdirSync(lockDir)).toEqual([]);
  });
});
