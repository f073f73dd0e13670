/**
 * History as a user meets it: `hil run` (bin/hil.js, spawned; build first) on the simulated
 * board records every run and attempt with its provenance; a history that cannot be written is
 * one warning and the exit code stands; a corrupt file is set aside; `hil history`,
 * `hil history regressions` and `hil history flaky` answer from SQLite and from PostgreSQL
 * (HIL_TEST_POSTGRES: a schema of this file's own, dropped at the end).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { repoRoot } from '../../fault/spawnHil.js';
import { openHistory } from '../../history/index.js';
import { seedHistory } from '../../history/seed.js';
import { testPgReason, testPgSchema } from '../../history/testing.js';
import { startSim, type SimBoard } from '../../sim/index.js';
import { FaultProxy } from '../../fault/faultProxy.js';

const root = repoRoot();
const tmp = mkdtempSync(join(tmpdir(), 'hil-history-cli-'));
const pgt = testPgSchema('hil_history_cli');
if (!pgt) process.stderr.write(`history CLI tests: ${testPgReason()}\n`);
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await pgt?.drop();
});

interface Out { code: number | null; stdout: string; stderr: string }
/** bin/hil.js with a private state folder (nothing lands in the user's ~/.local/state). */
function hil(args: string[], env: Record<string, string | undefined> = {}): Promise<Out> {
  return new Promise((resolve) => {
    const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: join(tmp, 'state'), HIL_HISTORY: undefined, GITHUB_ACTIONS: undefined, GITHUB_RUN_ID: undefined, GITLAB_CI: undefined, CI_JOB_ID: undefined, JENKINS_URL: undefined, BUILD_TAG: undefined, ...env };
    for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
    const child = spawn(process.execPath, [join(root, 'bin', 'hil.js'), ...args], { cwd: root, env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const json = <T>(o: Out): T => JSON.parse(o.stdout) as T;

describe('hil run records its results', () => {
  const file = join(tmp, 'h1.sqlite');
  it('every run, with provenance: hil version, host, CI job, scenario hash, image and file hashes, board identity, firmware', async () => {
    const ci = { GITHUB_ACTIONS: 'true', GITHUB_RUN_ID: '4242', GITHUB_RUN_ATTEMPT: '2', GITHUB_REPOSITORY: 'lab/cams', GITHUB_JOB: 'nightly', GITHUB_SERVER_URL: 'https://github.com', GITHUB_SHA: 'deadbeef' };
    const r = await hil(['run', 'model-load', '--device', 'sim', '--history', file, '-q'], ci);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const h = json<{ runs: { id: number; hilVersion: string; host: string; ci: unknown; results: Record<string, unknown>[] }[] }>(await hil(['history', '--history', file, '--json']));
    expect(h.runs).toHaveLength(1);
    const run = h.runs[0]!;
    expect(run.hilVersion).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
    expect(run.host).toBe(hostname());
    expect(run.ci).toEqual({ system: 'github', job: 'lab/cams#4242.2 nightly', url: 'https://github.com/lab/cams/actions/runs/4242', commit: 'deadbeef' });
    expect(run.results.map((x) => [x.check, x.status, x.attempt, x.final])).toEqual([
      ['listing', 'passed', 1, true], ['imports', 'passed', 1, true], ['models.placement', 'passed', 1, true], ['models.inference', 'simulated', 1, true],
    ]);
    const first = run.results[0] as { scenarioHash: string; imageSha256: string; identity: { platform: string; implementation: { name: string } }; firmware: string; profile: string; device: string };
    expect(first.device).toBe('sim');
    expect(first.profile).toBe('openmv-h7');
    expect(first.firmware).toMatch(/^stm32\/(released|master)$/);
    expect(first.identity.platform).toBe('OpenMV4-H7');
    expect(first.identity.implementation.name).toBe('micropython');
    expect(first.scenarioHash).toMatch(/^[0-9a-f]{64}$/);
    expect(first.imageSha256).toMatch(/^[0-9a-f]{64}$/);
    const store = await openHistory(file);
    const files = await store.imageFiles(first.imageSha256);
    await store.close();
    expect(Object.keys(files ?? {})).toEqual(expect.arrayContaining(['config.json', 'model.tflite']));
    expect(Object.values(files ?? {}).every((v) => /^[0-9a-f]{64}$/.test(v))).toBe(true);
  });

  it('--no-history and HIL_HISTORY=off record nothing', async () => {
    const state = join(tmp, 'state-off');
    expect((await hil(['run', 'model-load', '--device', 'sim', '-q', '--no-history'], { XDG_STATE_HOME: state })).code).toBe(0);
    expect((await hil(['run', 'model-load', '--device', 'sim', '-q'], { XDG_STATE_HOME: state, HIL_HISTORY: 'off' })).code).toBe(0);
    expect(existsSync(state)).toBe(false);
    const both = await hil(['run', 'model-load', '--device', 'sim', '--no-history', '--history', file]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^hil: give --history or --no-history, not both\n/);
  });

  it('the default history is $XDG_STATE_HOME/hil/history.sqlite', async () => {
    const state = join(tmp, 'state-default');
    expect((await hil(['run', 'model-load', '--device', 'sim', '-q'], { XDG_STATE_HOME: state })).code).toBe(0);
    expect(json<{ runs: unknown[] }>(await hil(['history', '--json', '--history', join(state, 'hil', 'history.sqlite')])).runs).toHaveLength(1);
  });

  it('a history that cannot be written is one warning line; the exit code is the run\'s own', async () => {
    const blocker = join(tmp, 'not-a-folder');
    writeFileSync(blocker, 'x');
    const r = await hil(['run', 'model-load', '--device', 'sim', '-q', '--history', join(blocker, 'h.sqlite')]);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^hil: warning: history not recorded \(.*not-a-folder\/h\.sqlite\): /)]);
  });

  it('a failed check is exit 1 and class product, in the JSON report and in the history', async () => {
    const bad = join(tmp, 'bad-scenario');
    mkdirSync(bad);
    writeFileSync(join(bad, 'scenario.yaml'), `name: bad\nimage:\n  source: ${join(root, 'images', 'demo')}\nchecks:\n  - imports:\n      entryPoints:\n        - { call: mylib.version, expect: "2.0.0" }\n`);
    const report = join(tmp, 'bad.json');
    const b = await hil(['run', bad, '--device', 'sim', '-q', '--json', report, '--history', join(tmp, 'h-bad.sqlite')]);
    expect(b.code).toBe(1);
    expect(b.stderr).not.toMatch(/warning/);
    const rep = JSON.parse(readFileSync(report, 'utf8')) as { devices: { scenarios: { checks: { status: string; failureClass?: string }[] }[] }[] };
    expect(rep.devices[0]!.scenarios[0]!.checks.map((c) => [c.status, c.failureClass])).toEqual([['failed', 'product']]);
    const h = json<{ runs: { results: { check: string; status: string; failureClass: string }[] }[] }>(await hil(['history', '--history', join(tmp, 'h-bad.sqlite'), '--json']));
    expect(h.runs[0]!.results.map((x) => [x.check, x.status, x.failureClass])).toEqual([['imports', 'failed', 'product']]);
  });

  it('a PostgreSQL server that refuses is one warning line; the exit code stands', async () => {
    const r = await hil(['run', 'model-load', '--device', 'sim', '-q', '--history', 'postgres://hil:pw@127.0.0.1:1/none']);
    expect(r.code).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^hil: warning: history not recorded \(postgres:\/\/hil:\*\*\*@127\.0\.0\.1:1\/none\): .*ECONNREFUSED/)]);
  });

  it('a corrupt SQLite file is set aside (renamed, not deleted) and the run recorded in a new one', async () => {
    const dir = join(tmp, 'corrupt');
    mkdirSync(dir);
    const f = join(dir, 'history.sqlite');
    writeFileSync(f, 'garbage, not SQLite\n'.repeat(100));
    const r = await hil(['run', 'model-load', '--device', 'sim', '-q', '--history', f]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^hil: warning: history .*history\.sqlite was not a readable SQLite database: set aside as .*history\.sqlite\.corrupt-\S+, started a new one\n$/);
    const aside = readdirSync(dir).filter((x) => x.includes('.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!), 'utf8')).toBe('garbage, not SQLite\n'.repeat(100));
    expect(json<{ runs: unknown[] }>(await hil(['history', '--history', f, '--json'])).runs).toHaveLength(1);
  });

  (pgt ? it : it.skip)('records into PostgreSQL and answers from it', async () => {
    expect((await hil(['run', 'model-load', '--device', 'sim', '-q'], { HIL_HISTORY: pgt!.url })).code).toBe(0);
    const h = json<{ runs: { results: { check: string }[] }[] }>(await hil(['history', '--json', '--history', pgt!.url]));
    expect(h.runs).toHaveLength(1);
    expect(h.runs[0]!.results.map((x) => x.check)).toEqual(['listing', 'imports', 'models.placement', 'models.inference']);
  });
});

describe('a retried attempt keeps its evidence', () => {
  let board: SimBoard;
  let proxy: FaultProxy;
  beforeAll(async () => {
    board = await startSim({ profile: 'openmv-h7', link: 'tcp' });
    // Cut the link whenever the listing check's program goes to the board: every attempt ends in
    // a link error (the device layer's own reconnects included), and hil retries the scenario once.
    proxy = await FaultProxy.start({ upstream: board.connection, rules: [{ when: { kind: 'pattern', dir: 'toBoard', pattern: '"p":"listing"' }, do: { kind: 'drop' }, everyConnection: true }] });
  });
  afterAll(async () => {
    await proxy?.close();
    await board?.stop();
  });

  it('attempt 1 (link error, its own transcript, its reason) and attempt 2 are both in the history and the JSON report', async () => {
    const file = join(tmp, 'retry.sqlite');
    const out = join(tmp, 'retry-out');
    const scen = join(tmp, 'quick-listing');
    mkdirSync(scen);
    writeFileSync(join(scen, 'scenario.yaml'), `name: quick-listing\nimage:\n  source: ${join(root, 'images', 'demo')}\nchecks:\n  - listing\n`);
    const r = await hil(['run', scen, '--device', proxy.connection, '--profile', 'openmv-h7', '--out', out, '--history', file, '-q']);
    expect(proxy.stats.fired).toBeGreaterThanOrEqual(2);
    expect(r.code).toBe(3);
    const h = json<{ runs: { results: { check: string; status: string; attempt: number; final: boolean; failureClass: string | null; transcript: string | null; attemptReason: string | null }[] }[] }>(await hil(['history', '--history', file, '--json']));
    const rows = h.runs[0]!.results;
    const one = rows.filter((x) => x.attempt === 1);
    const two = rows.filter((x) => x.attempt === 2);
    expect(one.every((x) => !x.final) && two.every((x) => x.final)).toBe(true);
    expect(one[0]).toMatchObject({ check: 'listing', status: 'error', failureClass: 'link' });
    expect(one[0]!.attemptReason).toMatch(/^listing: /);
    expect(one[0]!.transcript).toMatch(/transcript\.quick-listing\.attempt-1\.txt$/);
    expect(one[0]!.transcript!.startsWith(out)).toBe(true);
    // The listing program went out in attempt 1: its bytes, joined across the raw-paste windows
    // the transcript shows one line each (a name may be cut between two of them).
    const sent = readFileSync(one[0]!.transcript!, 'utf8').split('\n').map((l) => /^\s*[\d.]+ tx {3}(.*)$/.exec(l)?.[1]).filter((x) => x !== undefined).join('');
    expect(sent).toContain('"p":"listing"'); // the listing program (packed: its phase names it)
    // The final attempt's transcript is another file: attempt 1's was not overwritten.
    expect(two.map((x) => [x.check, x.status, x.failureClass])).toEqual([['listing', 'error', 'link']]);
    expect(two[0]!.transcript).toMatch(/[\\/]transcript\.txt$/);
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { devices: { scenarios: { attempts: number; previousAttempts: { attempt: number; failureClass: string; transcript: string; checks: { status: string }[] }[] }[] }[] };
    const s = report.devices[0]!.scenarios[0]!;
    expect(s.attempts).toBe(2);
    expect(s.previousAttempts).toHaveLength(1);
    expect(s.previousAttempts[0]).toMatchObject({ attempt: 1, failureClass: 'link', transcript: one[0]!.transcript });
  });
});

describe('asking the history', () => {
  const file = join(tmp, 'seeded.sqlite');
  const nights = 10;
  beforeAll(async () => {
    const store = await openHistory(file);
    // Ten nights ending yesterday: the image, firmware (cam01..cam08) and hil change on the last one.
    await seedHistory(store, { devices: 16, nights, start: new Date(Date.now() - nights * 86_400_000), regressionNight: nights - 1, firmwareNight: nights - 1 });
    await store.close();
  });

  it('hil history lists runs newest first, narrowed by device, scenario and --since', async () => {
    const all = json<{ runs: { id: number; results: { device: string; scenario: string }[] }[] }>(await hil(['history', '--history', file, '--json', '--limit', '50']));
    expect(all.runs.map((r) => r.id)).toEqual([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    const one = json<typeof all>(await hil(['history', '--history', file, '--json', '--device', 'cam07', '--scenario', 'inference', '--since', '3d']));
    expect(one.runs.length).toBeGreaterThanOrEqual(2);
    expect(one.runs.length).toBeLessThanOrEqual(3);
    expect(new Set(one.runs.flatMap((r) => r.results.map((x) => `${x.device}/${x.scenario}`)))).toEqual(new Set(['cam07/inference']));
    const text = await hil(['history', '--history', file, '--device', 'cam12', '--limit', '1']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^run 10 {2}\S+ {2}exit 1 /);
    expect(text.stdout).toContain('attempt 1: ERR listing (link: link closed while waiting for the raw REPL prompt)  transcript /var/lib/hil/nightly/9/cam12/transcript.attempt-1.txt');
  });

  it('hil history regressions: new failures with what changed, still failing, fixed', async () => {
    const r = json<{ regressions: { device: string; scenario: string; check: string; kind: string; changed: { what: string; from: string; to: string }[] }[] }>(await hil(['history', 'regressions', '--history', file, '--json']));
    const kinds = r.regressions.map((x) => `${x.kind} ${x.device} ${x.scenario} ${x.check}`);
    // cam03..05: the new image's regression; cam07: its flaky check failed last night (night 9).
    // cam12's link errors and cam16's outage are the devices' health, not regressions.
    expect(kinds).toEqual([
      'new-failure cam03 model-load models.inference', 'new-failure cam04 model-load models.inference', 'new-failure cam05 model-load models.inference',
      'new-failure cam07 inference models.inference',
    ]);
    const c3 = r.regressions.find((x) => x.device === 'cam03')!;
    expect(c3.changed.map((x) => x.what)).toEqual(['image', 'firmware', 'hil']);
    expect(c3.changed.find((x) => x.what === 'hil')).toEqual({ what: 'hil', from: '0.1.0', to: '0.2.0' });
    const text = (await hil(['history', 'regressions', '--history', file])).stdout;
    expect(text).toMatch(/^New failures \(4\):\n {2}cam03 {2}model-load {2}models\.inference: FAIL in run 10, was PASS in run 9\n {6}product: \/rom\/person\.tflite: predict returned/);
    expect(text).toMatch(/changed: image \w{12} -> \w{12}, firmware stm32\/released v1\.27\.0 on 2026-01-01 -> stm32\/released v1\.28\.0 on 2026-01-01, hil 0\.1\.0 -> 0\.2\.0/);
  });

  it('hil history flaky: the flaky check with its evidence; devices with rising infra errors apart', async () => {
    const r = json<{ flaky: { device: string; scenario: string; check: string; passed: number; failed: number; deviceInfraRising: boolean; failures: { transcript: string }[] }[]; devices: { device: string; rising: boolean }[] }>(await hil(['history', 'flaky', '--history', file, '--json']));
    // Nights 1, 5 failed and 7 passed on firmware 1.27.0; night 9 (failed) is on 1.28.0: another group.
    expect(r.flaky.map((f) => `${f.device} ${f.scenario} ${f.check} ${f.failed}/${f.passed}`)).toEqual(['cam07 inference models.inference 2/7']);
    expect(r.flaky[0]!.failures.map((f) => f.transcript)).toEqual(['/var/lib/hil/nightly/5/cam07/transcript.txt', '/var/lib/hil/nightly/1/cam07/transcript.txt']);
    expect(r.devices.filter((d) => d.rising).map((d) => d.device)).toEqual(['cam12', 'cam16']);
    const text = (await hil(['history', 'flaky', '--history', file, '--window', '30d'])).stdout;
    expect(text).toMatch(/^Flaky checks \(1\): /);
    expect(text).toMatch(/Devices with rising infrastructure errors \(2\)/);
  });

  it('bad options are exit 2 in one line; no history yet is said, and nothing is created', async () => {
    const bad = await hil(['history', '--history', file, '--since', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^hil: --since must be a duration such as 30m, 12h, 7d or 2w \(got "yesterday"\)\n/);
    const w = await hil(['history', 'flaky', '--history', file, '--window', '0d']);
    expect(w.code).toBe(2);
    const none = join(tmp, 'never.sqlite');
    const n = await hil(['history', '--history', none]);
    expect(n).toMatchObject({ code: 0, stdout: `No history recorded yet (${none}).\n` });
    expect(existsSync(none)).toBe(false);
  });
});
