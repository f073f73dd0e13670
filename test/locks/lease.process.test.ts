/**
 * Device leases across real processes (H5's harness/bench/lease.ts, from dist/): a second process
 * waits up to its deadline then refuses with a clear message naming the holder; a holder killed
 * with SIGKILL does not leave the device locked; a holder that lets go during the wait hands over.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const leaseJs = join(process.cwd(), 'dist/harness/bench/lease.js');
const built = existsSync(leaseJs);
if (!built) console.log('lease process tests skipped: run `npm run build` first');
const maybe = built ? test : test.skip;
const url = pathToFileURL(leaseJs).href;
let dir = '';
const kids: ChildProcess[] = [];
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'hil-lease-'))));
afterEach(() => {
  for (const k of kids.splice(0)) if (k.exitCode === null) k.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A holder process: takes the lease, says "held", keeps it `holdMs` (forever if 0), then releases. */
function holder(holdMs: number): Promise<ChildProcess> {
  const code = `const {acquireLease}=await import(${JSON.stringify(url)});const l=await acquireLease('dev-A',{dir:${JSON.stringify(dir)}});console.log('held');${holdMs ? `setTimeout(()=>{l.release();process.exit(0)},${holdMs});` : 'setInterval(()=>{},1000);'}`;
  const k = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  kids.push(k);
  return new Promise((resolve, reject) => {
    k.stdout!.on('data', (b: Buffer) => b.toString().includes('held') && resolve(k));
    k.on('exit', (c) => reject(new Error(`holder exited ${c}`)));
  });
}

/** A second process asking for the same lease with a deadline; returns its exit status and output. */
function contender(waitMs: number): { status: number | null; out: string; ms: number } {
  const code = `const {acquireLease}=await import(${JSON.stringify(url)});try{const l=await acquireLease('dev-A',{dir:${JSON.stringify(dir)},waitMs:${waitMs},pollMs:50});console.log('acquired');l.release()}catch(e){console.log(e.name+': '+e.message);process.exit(e.exitCode??9)}`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout.trim(), ms: Date.now() - t0 };
}

maybe('a second process waits up to its deadline, then refuses with exit 3 naming the holder', async () => {
  const k = await holder(0);
  const r = contender(600);
  expect(r.status).toBe(3);
  expect(r.out).toMatch(/^LeaseBusyError: .*/);
  expect(r.out).toContain(String(k.pid));
  expect(r.ms).toBeGreaterThanOrEqual(600);
}, 40_000);

maybe('a holder killed with SIGKILL does not leave the device locked', async () => {
  const k = await holder(0);
  k.kill('SIGKILL');
  await new Promise((r) => k.on('exit', r));
  const r = contender(0);
  expect(r).toMatchObject({ status: 0, out: 'acquired' });
}, 40_000);

maybe('a waiting process gets the lease when the holder lets go within its deadline', async () => {
  await holder(500);
  const r = contender(10_000);
  expect(r).toMatchObject({ status: 0, out: 'acquired' });
}, 40_000);
