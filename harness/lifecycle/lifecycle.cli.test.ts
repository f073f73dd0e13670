/**
 * Nothing left behind (issue 12): real hil processes (bin/hil.js, which runs dist/: `npm run
 * build` first) against the simulated board, and against QEMU when HIL_QEMU_FIRMWARE is set, are
 * signalled mid-run (SIGINT, SIGTERM, SIGHUP, SIGKILL). Each test has its own TMPDIR and
 * HIL_LOCK_DIR and asserts by PID (/proc) that no child of hil (QEMU, its watchdog, the simulated
 * board's supervisor, board process and socat) still runs, and by those folders that nothing is
 * left. Every wait is on an event with a deadline.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import { acquireLease } from '../bench/lease.js';
import { boardKey } from '../bench/boardKey.js';
import { OWNER_FILE } from './tempDir.js';
import { processStart } from './process.js';
import { repoRoot as root, spawnHil, waitFor, type HilProcess as Hil } from '../../test/helpers/hilProcess.js';

const built = existsSync(join(root, 'dist/harness/lifecycle/watchdog.js'));
if (!built) console.log('lifecycle CLI tests skipped: run `npm run build` first (they spawn bin/hil.js)');
const qemuFirmware = process.env.HIL_QEMU_FIRMWARE;
if (!qemuFirmware) console.log('lifecycle QEMU tests skipped: HIL_QEMU_FIRMWARE is not set (a MicroPython ports/qemu firmware.elf)');
const maybe = built ? it : it.skip;
const maybeQemu = built && qemuFirmware ? it : it.skip;

const work = mkdtempSync(join(tmpdir(), 'hil-lifecycle-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Box {
  dir: string;
  tmp: string;
  locks: string;
  env: NodeJS.ProcessEnv;
}
let boxes = 0;
/** A private TMPDIR and HIL_LOCK_DIR for one test. */
function box(): Box {
  const dir = join(work, `box${++boxes}`);
  const tmp = join(dir, 'tmp');
  const locks = join(dir, 'locks');
  mkdirSync(tmp, { recursive: true });
  mkdirSync(locks, { recursive: true });
  return { dir, tmp, locks, env: { ...process.env, TMPDIR: tmp, HIL_LOCK_DIR: locks, NO_COLOR: '1' } };
}

/** A scenario whose first check passes and whose second writes `mark` and never resolves. */
function blockingScenario(b: Box, checkTimeoutMs = 600_000): { dir: string; mark: string } {
  const dir = join(b.dir, 'scen');
  mkdirSync(join(dir, 'img'), { recursive: true });
  writeFileSync(join(dir, 'img', 'data.txt'), 'hello\n');
  const mark = join(b.dir, 'started');
  writeFileSync(join(dir, 'pass.mjs'), `export async function check() { return { status: 'passed' }; }\n`);
  writeFileSync(join(dir, 'block.mjs'), `import { writeFileSync } from 'node:fs';\nexport async function check() { writeFileSync(${JSON.stringify(mark)}, 'started'); return new Promise(() => {}); }\n`);
  writeFileSync(join(dir, 'scenario.yaml'), `name: block\nimage: { source: ./img }\nflash: never\nsoftReset: false\ncheckTimeoutMs: ${checkTimeoutMs}\nchecks:\n  - module: ./pass.mjs\n  - module: ./block.mjs\n`);
  return { dir, mark };
}

function hil(args: string[], b: Box): Hil {
  return spawnHil(args, { cwd: b.dir, env: b.env });
}

async function exitWithin(h: Hil, ms: number, what: string) {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([h.exit, new Promise<null>((res) => (timer = setTimeout(() => res(null), ms)))]);
  clearTimeout(timer);
  if (!r) {
    h.child.kill('SIGKILL');
    throw new Error(`${what}: hil did not exit within ${ms} ms\nstderr: ${h.err()}`);
  }
  return r;
}

/** Every process on the machine: pid -> [ppid, state, cmdline]. */
function processTable(): Map<number, { ppid: number; state: string; cmd: string }> {
  const t = new Map<number, { ppid: number; state: string; cmd: string }>();
  for (const n of readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${n}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      t.set(Number(n), { ppid: Number(rest[1]), state: rest[0]!, cmd });
    } catch { /* gone meanwhile */ }
  }
  return t;
}

/** hil's descendants (children, grandchildren...), by PID with their command line and start time. */
function descendants(pid: number): { pid: number; cmd: string; start: string | null }[] {
  const t = processTable();
  const out: { pid: number; cmd: string; start: string | null }[] = [];
  const walk = (p: number) => {
    for (const [c, info] of t) {
      if (info.ppid === p && info.state !== 'Z') {
        out.push({ pid: c, cmd: info.cmd, start: processStart(c) });
        walk(c);
      }
    }
  };
  walk(pid);
  return out;
}

/** The process still runs (same PID and start time, not a zombie). */
function running(p: { pid: number; start: string | null }): boolean {
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && processStart(p.pid) === p.start;
  } catch {
    return false;
  }
}

const left = (dir: string) => readdirSync(dir);

async function nothingLeft(kids: { pid: number; cmd: string; start: string | null }[], b: Box) {
  // The children end on their own once hil is gone (watchdogs, IPC disconnect): a deadline, not a sleep.
  await waitFor('every child of hil to end', 6000, () => kids.every((k) => !running(k)) || undefined).catch(() => undefined);
  expect(kids.filter(running).map((k) => `${k.pid} ${k.cmd}`)).toEqual([]);
  expect(left(b.tmp)).toEqual([]);
  expect(left(b.locks)).toEqual([]);
}

/** Wait until the simulated board's processes (supervisor, board, socat) run under hil. */
const simUp = (pid: number) => {
  const d = descendants(pid);
  return d.some((k) => /supervisor\.js/.test(k.cmd)) && d.some((k) => /boardProcess\.js/.test(k.cmd)) && d.some((k) => /^socat /.test(k.cmd)) ? d : undefined;
};
const qemuUp = (pid: number) => {
  const d = descendants(pid);
  return d.some((k) => /qemu-system-arm/.test(k.cmd)) && d.some((k) => /watchdog\.js/.test(k.cmd)) ? d : undefined;
};

describe('signals end any hil command cleanly (sim)', () => {
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    maybe(`hil run: ${sig} mid-check exits ${code}, writes the reports with what finished (the check in progress ERR interrupted), leaves nothing`, async () => {
      const b = box();
      const s = blockingScenario(b);
      const json = join(b.dir, 'r.json');
      const junit = join(b.dir, 'r.xml');
      const h = hil(['run', s.dir, '--device', 'sim', '--json', json, '--junit', junit, '--out', join(b.dir, 'out')], b);
      await waitFor('the blocking check to start', 60_000, () => existsSync(s.mark) || (h.child.exitCode !== null && (() => { throw new Error(`hil exited early: ${h.err()}`); })()));
      const kids = descendants(h.child.pid!);
      expect(kids.some((k) => /supervisor\.js/.test(k.cmd))).toBe(true);
      expect(left(b.locks).length).toBe(1); // the sim run holds its lease
      h.child.kill(sig);
      const r = await exitWithin(h, 6000, sig);
      expect(r).toEqual({ code, signal: null });
      expect(h.err()).toContain(`stopped by ${sig}`);
      const report = JSON.parse(readFileSync(json, 'utf8')) as { devices: { scenarios: { checks: { name: string; status: string; reason?: string }[] }[] }[] };
      const checks = report.devices[0]!.scenarios[0]!.checks;
      expect(checks.map((c) => [c.name, c.status])).toEqual([['module:pass.mjs', 'passed'], ['interrupted', 'error']]);
      expect(checks[1]!.reason).toContain(`interrupted by ${sig}`);
      expect(readFileSync(junit, 'utf8')).toContain('interrupted');
      await nothingLeft(kids, b);
    }, 90_000);
  }

  maybe('hil exec: SIGTERM while the code runs exits 143 and leaves nothing', async () => {
    const b = box();
    const h = hil(['exec', '--device', 'sim', 'import time\nwhile True: time.sleep_ms(10)'], b);
    const kids = await waitFor('the simulated board to run', 60_000, () => simUp(h.child.pid!));
    await waitFor('the lease', 10_000, () => left(b.locks).length === 1);
    h.child.kill('SIGTERM');
    expect(await exitWithin(h, 6000, 'SIGTERM')).toEqual({ code: 143, signal: null });
    await nothingLeft(kids, b);
  }, 90_000);
});

describe('SIGKILL leaves no running child; the next hil reclaims folders and locks', () => {
  maybe('hil run on the sim killed with SIGKILL: supervisor, board and socat end; the next hil removes its folder and lock', async () => {
    const b = box();
    const s = blockingScenario(b);
    const h = hil(['run', s.dir, '--device', 'sim'], b);
    await waitFor('the blocking check to start', 60_000, () => existsSync(s.mark));
    const kids = await waitFor('the simulated board', 5000, () => simUp(h.child.pid!));
    h.child.kill('SIGKILL');
    expect((await exitWithin(h, 5000, 'SIGKILL')).signal).toBe('SIGKILL');
    await waitFor('the children to end', 6000, () => kids.every((k) => !running(k)) || undefined).catch(() => undefined);
    expect(kids.filter(running).map((k) => k.cmd)).toEqual([]);
    // What the killed run left is still there until another hil starts...
    expect(left(b.tmp).some((n) => n.startsWith('hil-sim-'))).toBe(true);
    expect(left(b.locks).length).toBe(1);
    const next = hil(['--version'], b);
    expect((await exitWithin(next, 20_000, 'hil --version')).code).toBe(0);
    await nothingLeft(kids, b);
  }, 90_000);

  maybe('reclaim removes only what provably belongs to a dead hil (PID + start time)', async () => {
    const b = box();
    const dead = spawn(process.execPath, ['-e', '0']);
    const deadPid = dead.pid!;
    const deadStart = await waitFor('a start time', 2000, () => processStart(deadPid));
    await new Promise((r) => dead.on('exit', r));
    const mk = (name: string, owner?: object) => {
      mkdirSync(join(b.tmp, name));
      if (owner) writeFileSync(join(b.tmp, name, OWNER_FILE), JSON.stringify(owner));
    };
    const host = (await import('node:os')).hostname();
    mk('hil-sim-dead', { pid: deadPid, start: deadStart, host });
    mk('hil-qemu-recycled', { pid: process.pid, start: 'not-my-start-time', host }); // PID reused by a later process
    mk('hil-sim-live', { pid: process.pid, start: processStart(process.pid), host });
    mk('hil-sim-nobody'); // no owner file: not provably ours
    mk('hil-sim-elsewhere', { pid: deadPid, start: deadStart, host: 'another-host' });
    writeFileSync(join(b.locks, 'x.lock'), JSON.stringify({ pid: deadPid, start: deadStart, host, what: 'killed', since: new Date().toISOString(), key: 'x' }));
    const live = await acquireLease('live-board', { dir: b.locks });
    try {
      const next = hil(['--version'], b);
      expect((await exitWithin(next, 20_000, 'hil --version')).code).toBe(0);
      expect(left(b.tmp).sort()).toEqual(['hil-sim-elsewhere', 'hil-sim-live', 'hil-sim-nobody']);
      expect(left(b.locks)).toEqual([live.file.split('/').pop()]);
    } finally {
      live.release();
    }
  }, 30_000);
});

describe('QEMU (HIL_QEMU_FIRMWARE)', () => {
  maybeQemu('hil exec --device qemu: SIGINT exits 130; qemu-system-arm, its watchdog, its hil-qemu-* folder and lock are gone', async () => {
    const b = box();
    const h = hil(['exec', '--device', 'qemu', '--profile', 'qemu-mps2-an385', 'import time\nwhile True: time.sleep_ms(10)'], b);
    const kids = await waitFor('qemu-system-arm under hil', 30_000, () => qemuUp(h.child.pid!));
    await waitFor('the lease', 30_000, () => left(b.locks).length === 1);
    h.child.kill('SIGINT');
    expect(await exitWithin(h, 6000, 'SIGINT')).toEqual({ code: 130, signal: null });
    await nothingLeft(kids, b);
  }, 90_000);

  maybeQemu('hil run --device qemu: SIGTERM mid-check exits 143 with the reports; nothing left', async () => {
    const b = box();
    const s = blockingScenario(b);
    const json = join(b.dir, 'r.json');
    const h = hil(['run', s.dir, '--device', 'qemu', '--profile', 'qemu-mps2-an385', '--json', json], b);
    await waitFor('the blocking check to start', 60_000, () => existsSync(s.mark));
    const kids = descendants(h.child.pid!);
    expect(kids.some((k) => /qemu-system-arm/.test(k.cmd))).toBe(true);
    h.child.kill('SIGTERM');
    expect(await exitWithin(h, 6000, 'SIGTERM')).toEqual({ code: 143, signal: null });
    const report = JSON.parse(readFileSync(json, 'utf8')) as { devices: { scenarios: { checks: { status: string; name: string }[] }[] }[] };
    expect(report.devices[0]!.scenarios[0]!.checks.map((c) => c.status)).toEqual(['passed', 'error']);
    await nothingLeft(kids, b);
  }, 90_000);

  maybeQemu('hil exec --device qemu killed with SIGKILL: the watchdog stops qemu-system-arm; the next hil reclaims the folder and lock', async () => {
    const b = box();
    const h = hil(['exec', '--device', 'qemu', '--profile', 'qemu-mps2-an385', 'import time\nwhile True: time.sleep_ms(10)'], b);
    const kids = await waitFor('qemu-system-arm under hil', 30_000, () => qemuUp(h.child.pid!));
    await waitFor('the lease', 30_000, () => left(b.locks).length === 1);
    h.child.kill('SIGKILL');
    await exitWithin(h, 5000, 'SIGKILL');
    await waitFor('qemu-system-arm to end', 6000, () => kids.every((k) => !running(k)) || undefined).catch(() => undefined);
    expect(kids.filter(running).map((k) => k.cmd)).toEqual([]);
    const next = hil(['--version'], b);
    expect((await exitWithin(next, 20_000, 'hil --version')).code).toBe(0);
    await nothingLeft(kids, b);
  }, 90_000);
});

describe('every exit path releases what it took', () => {
  maybe('hil exec --transcript to an unwritable path ends (no hang, no stack trace), board closed, nothing left', async () => {
    const b = box();
    const h = hil(['exec', '--device', 'sim', '--transcript', '/dev/null/x', 'print(1)'], b);
    const r = await exitWithin(h, 60_000, 'exec --transcript /dev/null/x');
    expect(r.code).toBe(2);
    expect(h.err()).toMatch(/--transcript \/dev\/null\/x/);
    expect(h.err()).not.toMatch(/\n\s+at /);
    expect(left(b.tmp)).toEqual([]);
    expect(left(b.locks)).toEqual([]);
  }, 90_000);

  maybe('the transcript is written for a failed connect too', async () => {
    const b = box();
    const srv = createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r())); // nothing listens there now
    const t = join(b.dir, 'transcript.txt');
    const h = hil(['exec', '--device', `socket://127.0.0.1:${port}`, '--profile', 'openmv-h7', '--transcript', t, 'print(1)'], b);
    const r = await exitWithin(h, 60_000, 'exec on a closed port');
    expect(r.code).toBe(3);
    expect(existsSync(t)).toBe(true);
    expect(left(b.locks)).toEqual([]);
  }, 90_000);

  maybe('hil run --out keeps the transcript of a failed connect, in a folder inside --out', async () => {
    const b = box();
    const srv = createServer((s) => s.destroy());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const out = join(b.dir, 'out');
    const h = hil(['run', join(root, 'scenarios/model-load'), '--device', `socket://127.0.0.1:${port}`, '--profile', 'openmv-h7', '--out', out, '--lease-wait', '0'], b);
    const r = await exitWithin(h, 60_000, 'run on a closed port');
    expect(r.code).toBe(3);
    const dirs = readdirSync(out).filter((n) => n !== 'results.json');
    expect(dirs).toHaveLength(1);
    expect(existsSync(join(out, dirs[0]!, 'transcript.txt'))).toBe(true);
    expect(left(b.locks)).toEqual([]);
  }, 90_000);

  maybe('a custom check that never resolves is ended by the check deadline (checkTimeoutMs)', async () => {
    const b = box();
    const s = blockingScenario(b, 1500);
    const json = join(b.dir, 'r.json');
    const h = hil(['run', s.dir, '--device', 'sim', '--json', json], b);
    const r = await exitWithin(h, 60_000, 'run with a never-resolving check');
    expect(r.code).toBe(3);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { devices: { scenarios: { checks: { status: string; reason?: string }[] }[] }[] };
    const last = report.devices[0]!.scenarios[0]!.checks.at(-1)!;
    expect(last.status).toBe('error');
    expect(last.reason).toMatch(/did not finish within 1500 ms/);
    expect(left(b.tmp)).toEqual([]);
    expect(left(b.locks)).toEqual([]);
  }, 90_000);
});

describe('one owner per board', () => {
  for (const cmd of ['flash', 'exec', 'repl'] as const) {
    maybe(`hil ${cmd} refuses a TCP board another process holds, whatever the spelling (localhost = 127.0.0.1), exit 3 naming the holder`, async () => {
      const b = box();
      const port = 40000 + (process.pid % 20000);
      const lease = await acquireLease(await boardKey({ connection: `socket://127.0.0.1:${port}` }), { dir: b.locks, what: 'a running hil run' });
      try {
        const img = join(b.dir, 'x.img');
        writeFileSync(img, Buffer.alloc(0));
        const dev = ['--device', `socket://localhost:${port}`, '--profile', 'openmv-h7'];
        const args = cmd === 'flash' ? ['flash', join(root, 'images/demo'), ...dev] : cmd === 'exec' ? ['exec', ...dev, 'print(1)'] : ['repl', ...dev];
        const h = hil(args, b);
        const r = await exitWithin(h, 30_000, `hil ${cmd}`);
        expect(r.code).toBe(3);
        expect(h.err()).toContain(`leased by PID ${process.pid}`);
        expect(existsSync(lease.file)).toBe(true); // the holder keeps its board
      } finally {
        lease.release();
      }
    }, 60_000);
  }
});
