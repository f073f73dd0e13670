/**
 * Shared leases with real hil processes (bin/hil.js runs dist/: `npm run build` first) on one bench
 * of 8 simulated boards behind Debian's ser2net in RFC 2217 mode (each board's pty exported by its
 * own ser2net, the bench file listing `rfc2217://ADDRESS:PORT`, so both runners reach the same 8
 * boards over TCP as they would on a board host) and real PostgreSQL (HIL_TEST_POSTGRES; this file
 * makes its own database and drops it):
 * - two `hil run --bench` at once: every board used by both, never by both at once (the board says
 *   so itself: harness/board/leases/visit.py, and the runners' lease logs agree), all leases
 *   released at the end;
 * - one runner SIGKILLed mid-run: the other gets each of its boards within TTL + 1 s;
 * - a holder whose lease was broken and given to someone else stops before its next board
 *   operation with an infra error naming the new holder (PostgreSQL, and file leases too);
 * - `hil lease list` / `hil lease break` (without --force: refused naming the holder).
 * Network namespaces stand in for separate hosts (test/rfc2217/netns.ts createBenchNetwork: one
 * bridge here, a veth pair per namespace): the board host (the sims run here, their ser2nets in it,
 * reached only over the bridge) and one namespace per runner (runner A and runner B are
 * `ip netns exec NS node bin/hil.js ...`; the visit log records each runner's namespace). The
 * runners reach PostgreSQL, which listens on loopback only, through a TCP forwarder this file owns
 * on this side's bridge address (pg_hba untouched: PostgreSQL sees a loopback client). Where the
 * namespaces cannot be made (not root) everything runs here on 127.0.0.1 and the reason is printed.
 * Nothing outlives the file: every runner is killed, every ser2net stopped (and guarded: it dies
 * with this process), the forwarder closed, then the namespaces and the bridge are deleted, the sims stopped and the database dropped; afterAll checks it.
 */
import { type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import type { SimBoard } from '../../sim/startSim.js';
import { PgLeaseStore } from './index.js';
import { boardKey } from '../boardKey.js';
import type { Ser2net } from '../../transport/rfc2217/ser2net.js';
import { createBenchNetwork, forwardTcp, type BenchNetwork, type Netns } from '../../../test/rfc2217/netns.js';
import { createScratchDatabase, type ScratchDatabase } from '../../../test/helpers/postgres.js';
import { repoRoot as root, spawnHil, waitFor, type HilProcess as Hil } from '../../../test/helpers/hilProcess.js';
import { ser2netVersion } from '../../transport/rfc2217/ser2net.js';

const built = existsSync(join(root, 'dist/harness/bench/leases/index.js'));
const base = process.env.HIL_TEST_POSTGRES;
const ser2net = ser2netVersion();
if (!built) console.log('shared-lease CLI tests skipped: run `npm run build` first (they spawn bin/hil.js)');
if (!base) console.log('shared-lease CLI tests skipped: HIL_TEST_POSTGRES is not set (e.g. postgres://hil:hil@127.0.0.1:5432/hil_test)');
if (!ser2net) console.log('shared-lease CLI tests skipped: ser2net is not installed (Debian: apt-get install ser2net)');
const maybe = built && base && ser2net ? describe : describe.skip;

const BOARDS = 8;
let db: ScratchDatabase | undefined;
let url = '';
let work = '';
let sims: SimBoard[] = [];
let servers: Ser2net[] = [];
let net: BenchNetwork | null = null;
/** The board host's namespace (ser2nets), when there is a bench network. */
let netns: Netns | null = null;
/** The runners' namespaces by RUNNER, when there is a bench network. */
let runnerNs: Record<string, Netns> = {};
let forwarder: { port: number; close(): Promise<void> } | undefined;
/** The database as the runners reach it (through the forwarder when they run in namespaces). */
let runnerUrl = '';
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!built || !base || !ser2net) return;
  work = mkdtempSync(join(tmpdir(), 'hil-leases-cli-test-'));
  db = await createScratchDatabase(base, 'hil_lease_cli');
  url = db.url;
  runnerUrl = url;
  const made = createBenchNetwork(['board', 'A', 'B']);
  net = made.net;
  if (!made.net) console.log(`shared-lease CLI tests: no namespaces (${made.reason}); ser2net listens on 127.0.0.1 and the runners run here`);
  else {
    netns = made.net.hosts.board!;
    runnerNs = { A: made.net.hosts.A!, B: made.net.hosts.B! };
    const pgUrl = new URL(url);
    forwarder = await forwardTcp(made.net.hostAddress, { host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    pgUrl.hostname = made.net.hostAddress;
    pgUrl.port = String(forwarder.port);
    runnerUrl = pgUrl.toString();
    console.log(
      `shared-lease CLI tests: board host is network namespace ${netns.name} at ${netns.address}, runners A and B in ${runnerNs.A!.name} (${runnerNs.A!.address}) and ${runnerNs.B!.name} (${runnerNs.B!.address}); PostgreSQL forwarded at ${made.net.hostAddress}:${forwarder.port}`,
    );
  }
  const { startSim } = await import('../../sim/startSim.js');
  const { startSer2net } = await import('../../transport/rfc2217/ser2net.js');
  sims = await Promise.all(Array.from({ length: BOARDS }, () => startSim({ profile: 'openmv-h7', link: 'pty', timeoutMs: 120_000 })));
  // In the namespace its own ports (as on a board host: 7001...); here, free loopback ones.
  servers = await Promise.all(
    sims.map((s, i) => startSer2net(netns ? { device: s.connection, netns: netns.name, host: netns.address, port: 7001 + i } : { device: s.connection })),
  );
}, 180_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
  await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
  await forwarder?.close();
  net?.remove();
  await Promise.all(sims.map((s) => s.stop().catch(() => undefined)));
  await db?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
  // Nothing of this file outlives it: no ser2net, no namespace.
  for (const s of servers) expect(existsSync(`/proc/${s.pid}`)).toBe(false);
  if (net) {
    for (const n of [netns!, ...Object.values(runnerNs)]) expect(existsSync(`/run/netns/${n.name}`)).toBe(false);
    expect(existsSync(`/sys/class/net/hilb${process.pid}`)).toBe(false);
  }
}, 60_000);

let boxes = 0;
/** A folder for one test: its own TMPDIR and lock folder, a bench file of the 8 boards. */
function box(leases: string = runnerUrl) {
  const dir = join(work, `box${++boxes}`);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  mkdirSync(join(dir, 'locks'), { recursive: true });
  const devices = servers.map((s, i) => `  cam${i + 1}: { profile: openmv-h7, connection: ${s.connection} }`).join('\n');
  const bench = join(dir, 'bench.yaml');
  writeFileSync(bench, `leases: ${leases}\ndevices:\n${devices}\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: join(dir, 'tmp'), HIL_LOCK_DIR: join(dir, 'locks'), NO_COLOR: '1' };
  delete env.HIL_LEASES;
  return { dir, bench, env };
}

const programModule = join(root, 'dist/harness/board/program.js');

/**
 * A scenario of one custom check. `visit`: the board is asked who is on it, marked as this
 * runner's, held a moment, then left (visit.py); one JSON line per visit goes to `log`.
 * `block`: writes `<mark>-<device>` and never resolves. `fenced`: writes the mark, waits for the
 * file `go`, then tries a visit (a board operation).
 */
function scenario(dir: string, kind: 'visit' | 'block' | 'fenced') {
  const s = join(dir, `scen-${kind}`);
  mkdirSync(join(s, 'img'), { recursive: true });
  writeFileSync(join(s, 'img', 'data.txt'), 'hello\n');
  const log = join(dir, 'visits.jsonl');
  const mark = join(dir, 'mark');
  const go = join(dir, 'go');
  const visit = `
  const runner = process.env.RUNNER;
  const t0 = Date.now();
  const enter = (await ctx.device.exec(boardProgram('leases/visit', { step: 'enter', runner }))).trim();
  await new Promise((r) => setTimeout(r, 150));
  const leave = (await ctx.device.exec(boardProgram('leases/visit', { step: 'leave', runner }))).trim().split(/\\r?\\n/);
  const t1 = Date.now();
  appendFileSync(${JSON.stringify(log)}, JSON.stringify({ runner, device: ctx.device.name, t0, t1, enter, leave, netns: readlinkSync('/proc/self/ns/net') }) + '\\n');
  const ok = enter === 'ON:' && leave[0] === 'ON:' + runner;
  return { status: ok ? 'passed' : 'failed', reason: ok ? undefined : 'another runner was on the board: ' + enter + ' / ' + leave.join(' ') };`;
  const body = {
    visit,
    block: `  writeFileSync(${JSON.stringify(mark)} + '-' + ctx.device.name, 'started');\n  return new Promise(() => {});`,
    fenced: `  writeFileSync(${JSON.stringify(mark)} + '-' + ctx.device.name, 'started');
  for (const deadline = Date.now() + 60000; !existsSync(${JSON.stringify(go)}); ) {
    if (Date.now() > deadline) return { status: 'error', reason: 'no go file' };
    await new Promise((r) => setTimeout(r, 50));
  }
${visit}`,
  }[kind];
  writeFileSync(
    join(s, 'check.mjs'),
    `import { appendFileSync, existsSync, readlinkSync, writeFileSync } from 'node:fs';\nimport { boardProgram } from ${JSON.stringify(programModule)};\nexport async function check(ctx) {\n${body}\n}\n`,
  );
  writeFileSync(join(s, 'scenario.yaml'), `name: ${kind}\nimage: { source: ./img }\nflash: never\nsoftReset: false\ncheckTimeoutMs: 600000\nchecks:\n  - module: ./check.mjs\n`);
  return { dir: s, log, mark, go };
}

/** A runner (`extraEnv.RUNNER` A or B) runs in its own namespace when there is a bench network; other commands run here. */
function hil(args: string[], b: { dir: string; env: NodeJS.ProcessEnv }, extraEnv: NodeJS.ProcessEnv = {}): Hil {
  return spawnHil(args, { cwd: b.dir, env: { ...b.env, ...extraEnv }, children, netns: runnerNs[extraEnv.RUNNER ?? '']?.name });
}

/** `net:[INODE]` of a namespace, as /proc/PID/ns/net reads in a process inside it. */
const nsId = (n: Netns) => `net:[${statSync(`/run/netns/${n.name}`).ino}]`;

/**
 * When the runner had the board, from its log under --out: `taken` is logged after the grant and
 * before any byte to the board, `closed` after the last byte and before the lease is given back.
 */
function leaseInterval(outDir: string, device: string): { taken: number; closed: number; token: number } {
  const log = readFileSync(join(outDir, device, 'log.txt'), 'utf8').split('\n');
  const at = (re: RegExp) => {
    const l = log.find((x) => re.test(x));
    if (!l) throw new Error(`${outDir}/${device}/log.txt has no line matching ${re}:\n${log.join('\n')}`);
    return { t: Date.parse(l.slice(0, l.indexOf(' '))), line: l };
  };
  const taken = at(/ lease taken: /);
  const closed = at(/ board closed/);
  at(/ lease released$/);
  return { taken: taken.t, closed: closed.t, token: Number(/ token (\d+) /.exec(taken.line)?.[1]) };
}

async function rows(): Promise<{ key: string; ended: string | null; token: string }[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query('SELECT key, ended, token FROM hil_leases ORDER BY key')).rows;
  } finally {
    await c.end();
  }
}

maybe('shared leases across hil processes (PostgreSQL, 8 simulated boards behind ser2net)', () => {
  it('the boards are reached through ser2net over RFC 2217, on the board host namespace when there is one', () => {
    for (const s of servers) {
      expect(s.connection).toMatch(/^rfc2217:\/\//);
      if (netns) {
        // ser2net runs in the other namespace, listening on its end of the veth pair only.
        expect(s.connection).toBe(`rfc2217://${netns.address}:${s.port}`);
        expect(readlinkSync(`/proc/${s.pid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
      }
    }
  });

  it('two hil run --bench at once: every board used by both, never by both at once; all leases released', async () => {
    const b = box();
    const s = scenario(b.dir, 'visit');
    const run = (r: string) => hil(['run', s.dir, '--bench', b.bench, '--lease-wait', '300', '--out', join(b.dir, `out${r}`)], b, { RUNNER: r });
    const [a, c] = [run('A'), run('B')];
    const [ea, ec] = await Promise.all([a.exit, c.exit]);
    expect({ code: ea.code, out: a.out() }).toEqual({ code: 0, out: expect.stringContaining(`leases shared in postgres`) });
    expect({ code: ec.code, out: c.out() }).toEqual({ code: 0, out: expect.any(String) });
    const visits = readFileSync(s.log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { runner: string; device: string; t0: number; t1: number; enter: string; leave: string[]; netns: string });
    expect(visits).toHaveLength(2 * BOARDS);
    // Each runner ran in its own namespace (separate hosts), not this one's.
    if (net) for (const v of visits) expect(v.netns).toBe(nsId(runnerNs[v.runner]!));
    else for (const v of visits) expect(v.netns).toBe(readlinkSync('/proc/self/ns/net'));
    for (let i = 1; i <= BOARDS; i++) {
      const dev = `cam${i}`;
      const here = visits.filter((v) => v.device === dev).sort((x, y) => x.t0 - y.t0);
      // Both runners used the board; the board saw nobody else on it during either visit.
      expect(here.map((v) => v.runner).sort()).toEqual(['A', 'B']);
      for (const v of here) {
        expect(v.enter).toBe('ON:');
        expect(v.leave[0]).toBe(`ON:${v.runner}`);
      }
      // The second visitor's board lists both visits, in order.
      expect(here[1]!.leave.some((l) => l.endsWith(`${here[0]!.runner},${here[1]!.runner}`))).toBe(true);
      // The runners' leases on the board did not overlap either, and the later grant has the larger token.
      const la = leaseInterval(join(b.dir, 'outA'), dev);
      const lb = leaseInterval(join(b.dir, 'outB'), dev);
      const [first, second] = la.taken < lb.taken ? [la, lb] : [lb, la];
      expect(first.closed).toBeLessThanOrEqual(second.taken);
      expect(second.token).toBeGreaterThan(first.token);
      // Each runner's transcript of the board holds its own visit.
      for (const r of ['A', 'B']) expect(readFileSync(join(b.dir, `out${r}`, dev, 'transcript.txt'), 'utf8')).toContain('ON:');
    }
    // Nothing is held any more: every grant was released.
    const list = hil(['lease', 'list', '--bench', b.bench], b);
    expect((await list.exit).code).toBe(0);
    expect(list.out()).toContain('no leases held');
    const all = await rows();
    expect(all).toHaveLength(BOARDS);
    for (const r of all) expect(r.ended).toBe('released');
  }, 600_000);

  it('a runner SIGKILLed mid-run: the other gets each of its boards within TTL + 1 s', async () => {
    const b = box();
    const blocked = scenario(b.dir, 'block');
    const visit = scenario(b.dir, 'visit');
    // A short TTL: the store's database deadline is its own (5 s), not a fraction of the TTL.
    const ttl = 6;
    const a = hil(['run', blocked.dir, '--bench', b.bench, '--lease-ttl', String(ttl), '--lease-wait', '0'], b, { RUNNER: 'A' });
    // A holds all 8 boards (its check is running on each).
    await waitFor('runner A on all 8 boards', 180_000, () => sims.every((_, i) => existsSync(`${blocked.mark}-cam${i + 1}`)) || (a.child.exitCode !== null && (() => { throw new Error(`runner A ended: ${a.out()}`); })())).catch((e: Error) => {
      a.child.kill('SIGKILL');
      throw new Error(`${e.message}; marks: ${sims.map((_, i) => existsSync(`${blocked.mark}-cam${i + 1}`)).join(',')}; runner A said: ${a.out()}`);
    });
    const c = hil(['run', visit.dir, '--bench', b.bench, '--lease-wait', '120', '--out', join(b.dir, 'outB')], b, { RUNNER: 'B' });
    await waitFor('runner B waiting for the boards', 60_000, () => /busy, held by/.test(c.out()));
    const killed = Date.now();
    a.child.kill('SIGKILL');
    await a.exit;
    const ec = await c.exit;
    expect({ code: ec.code, out: c.out() }).toEqual({ code: 0, out: expect.stringContaining('busy, held by') });
    for (let i = 1; i <= BOARDS; i++) {
      const got = leaseInterval(join(b.dir, 'outB'), `cam${i}`);
      expect(got.taken - killed).toBeLessThanOrEqual((ttl + 1) * 1000);
    }
    // Runner B visited from its own namespace.
    const visits = readFileSync(visit.log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { runner: string; netns: string });
    expect(visits).toHaveLength(BOARDS);
    for (const v of visits) expect(v.netns).toBe(net ? nsId(runnerNs.B!) : readlinkSync('/proc/self/ns/net'));
    expect((await rows()).every((r) => r.ended === 'released')).toBe(true);
  }, 600_000);

  for (const kind of ['postgres', 'file'] as const) {
    it(`${kind} leases: lease break needs --force and says whose lease it broke; the fenced holder stops before its next board operation naming the new holder`, async () => {
      const b = box(kind === 'postgres' ? runnerUrl : 'file');
      const s = scenario(b.dir, 'fenced');
      // A one-board bench: cam1.
      writeFileSync(b.bench, readFileSync(b.bench, 'utf8').split('\n').filter((l) => !/^ {2}cam[2-9]:/.test(l)).join('\n'));
      const a = hil(['run', s.dir, '--bench', b.bench, '--out', join(b.dir, 'outA')], b, { RUNNER: 'A' });
      await waitFor('runner A on cam1', 120_000, () => existsSync(`${s.mark}-cam1`) || (a.child.exitCode !== null && (() => { throw new Error(`runner A ended: ${a.out()}`); })())).catch((e: Error) => {
        a.child.kill('SIGKILL');
        throw e;
      });
      const list = hil(['lease', 'list', '--bench', b.bench], b);
      expect((await list.exit).code).toBe(0);
      expect(list.out()).toMatch(new RegExp(`^tcp/[^ ]+:\\d+: PID ${a.child.pid} on ${hostname()} since .*hil run fenced on cam1`, 'm'));
      const key = /^(tcp\/\S+:\d+):/m.exec(list.out())![1]!;
      expect(key).toBe(await boardKey({ connection: servers[0]!.connection }));
      const refused = hil(['lease', 'break', 'cam1', '--bench', b.bench], b);
      expect((await refused.exit).code).toBe(2);
      expect(refused.out()).toContain(`lease on ${key} is held by PID ${a.child.pid} on ${hostname()}`);
      expect(refused.out()).toContain('add --force');
      const broke = hil(['lease', 'break', 'cam1', '--bench', b.bench, '--force'], b);
      expect((await broke.exit).code).toBe(0);
      expect(broke.out()).toContain(`broke the lease on ${key} held by PID ${a.child.pid} on ${hostname()}`);
      let usurper: { release(): Promise<void> } | undefined;
      let store: PgLeaseStore | undefined;
      if (kind === 'postgres') {
        store = new PgLeaseStore({ url, ttlMs: 30_000 });
        // Another runner gets the board: as soon as the broken holder's fence cache (1 s) has run out.
        usurper = await store.acquire(key, { what: 'the usurper', waitMs: 10_000, pollMs: 20 });
      }
      writeFileSync(s.go, 'go');
      const ea = await a.exit;
      expect(ea.code).toBe(3);
      const why = kind === 'postgres' ? `lost: now held by PID ${process.pid} on ${hostname()}` : 'lost: its lock file was removed (lease broken)';
      expect(a.out()).toContain(`lease on ${key} ${why}`);
      if (kind === 'postgres') expect(a.out()).toContain('(the usurper)');
      // Nothing of the visit reached the board: the fence stopped it before it was sent.
      expect(readFileSync(join(b.dir, 'outA', 'cam1', 'transcript.txt'), 'utf8')).not.toContain('_hil_on_board');
      await usurper?.release();
      await store?.close();
    }, 300_000);
  }

  it('hil exec under $HIL_LEASES: a board another runner holds in PostgreSQL is refused naming it (exit 3); free, it runs', async () => {
    const b = box();
    const env = { HIL_LEASES: url };
    const key = await boardKey({ connection: servers[0]!.connection });
    const store = new PgLeaseStore({ url, ttlMs: 30_000 });
    try {
      const held = await store.acquire(key, { what: 'held by the test' });
      const refused = hil(['exec', '--device', servers[0]!.connection, 'print(6*7)'], b, env);
      expect((await refused.exit).code).toBe(3);
      expect(refused.out()).toContain(`device ${key} is leased by PID ${process.pid} on ${hostname()}`);
      expect(refused.out()).toContain('held by the test');
      await held.release();
      const ran = hil(['exec', '--device', servers[0]!.connection, 'print(6*7)'], b, env);
      expect({ code: (await ran.exit).code, out: ran.out() }).toEqual({ code: 0, out: expect.stringContaining('42') });
      expect((await store.list()).find((r) => r.key === key)).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 120_000);

  /** The TTL a live PostgreSQL lease on `key` was granted or renewed with (expires - renewed, s), once there is one. */
  async function liveTtl(key: string, ms = 60_000): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        const r = await c.query('SELECT extract(epoch FROM expires - renewed)::float AS ttl FROM hil_leases WHERE key = $1 AND ended IS NULL AND expires > now()', [key]);
        if (r.rows.length) return Number(r.rows[0].ttl);
      } finally {
        await c.end();
      }
      if (Date.now() > deadline) throw new Error(`no live lease on ${key} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('hil repl holds the board under a PostgreSQL lease with --lease-ttl, and every keystroke is fenced: once another runner has the board nothing more is sent and it stops (exit 3) naming the holder', async () => {
    const b = box();
    const conn = servers[1]!.connection;
    const key = await boardKey({ connection: conn });
    const r = spawnHil(['repl', '--device', conn, '--leases', url, '--lease-ttl', '7'], { cwd: b.dir, env: b.env, children, stdin: 'pipe' });
    await waitFor('hil repl to connect', 60_000, () => /connected to/.test(r.err()) || (r.child.exitCode !== null && (() => { throw new Error(`hil repl ended: ${r.out()}`); })()));
    expect(await liveTtl(key)).toBe(7);
    r.child.stdin!.write('print(6*7)\r');
    await waitFor('the board to answer 42', 30_000, () => /^42\r?$/m.test(r.out()) || (r.child.exitCode !== null && (() => { throw new Error(`hil repl ended: ${r.out()}`); })()));
    // Another runner breaks in and takes the board.
    const store = new PgLeaseStore({ url, ttlMs: 30_000 });
    try {
      expect(await store.breakLease(key, 'the test')).not.toBeNull();
      // Granted once the broken holder's fence cache (min(1 s, TTL/10)) has run out.
      const usurper = await store.acquire(key, { what: 'the usurper', waitMs: 10_000, pollMs: 20 });
      r.child.stdin!.write("print('after' + 'wards')\r");
      const e = await r.exit;
      expect({ code: e.code, out: r.out() }).toEqual({ code: 3, out: expect.stringContaining(`lease on ${key} lost: now held by PID ${process.pid} on ${hostname()}`) });
      expect(r.out()).toContain('(the usurper)');
      // Not one byte of the fenced line reached the board (it echoes what it gets).
      expect(r.out()).not.toContain('after');
      await usurper.release();
    } finally {
      await store.close();
    }
  }, 120_000);

  it('hil exec takes --leases and --lease-ttl: its PostgreSQL lease has that TTL', async () => {
    const b = box();
    const conn = servers[2]!.connection;
    const key = await boardKey({ connection: conn });
    const x = hil(['exec', '--device', conn, '--leases', url, '--lease-ttl', '9', 'import time\ntime.sleep(2)\nprint(6*7)'], b);
    expect(await liveTtl(key)).toBe(9);
    expect({ code: (await x.exit).code, out: x.out() }).toEqual({ code: 0, out: expect.stringContaining('42') });
  }, 120_000);

  it('hil devices probes a remote port under its lease: a board another runner holds is shown leased, naming the holder, and not connected to', async () => {
    const b = box();
    const conn = servers[3]!.connection;
    const key = await boardKey({ connection: conn });
    const inv = join(b.dir, 'inventory.yaml');
    writeFileSync(inv, `leases: ${url}\ndevices:\n  cam4: { profile: openmv-h7, connection: ${conn} }\n`);
    const store = new PgLeaseStore({ url, ttlMs: 30_000 });
    try {
      const held = await store.acquire(key, { what: 'runner A at work' });
      const busy = hil(['devices', '--inventory', inv, '--json'], b);
      expect((await busy.exit).code).toBe(0);
      const r1 = JSON.parse(busy.out().slice(busy.out().indexOf('{'))).inventory[0].reachable;
      expect(r1).toEqual({ ok: false, leasedBy: expect.stringContaining(`PID ${process.pid} on ${hostname()}`), detail: expect.stringContaining('not probed') });
      expect(r1.leasedBy).toContain('runner A at work');
      // The probe left the lease alone, and its own grants are given back.
      await held.fence();
      await held.release();
      const free = hil(['devices', '--inventory', inv, '--json'], b);
      expect((await free.exit).code).toBe(0);
      const r2 = JSON.parse(free.out().slice(free.out().indexOf('{'))).inventory[0].reachable;
      expect(r2).toEqual({ ok: true, detail: expect.stringContaining('RFC 2217 port (ser2net)') });
      expect((await store.list()).find((r) => r.key === key)).toBeUndefined();
    } finally {
      await store.close();
    }
  }, 120_000);
});
