/**
 * The history store against SQLite (a temp file) and real PostgreSQL (HIL_TEST_POSTGRES: a schema
 * of this file's own, dropped at the end; skipped with the reason printed when unset).
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { HistoryDbError, openHistory, recordRunQuietly, SCHEMA_VERSION, type HistoryStore, type ResultRow, type VerdictRow } from './index.js';
import { resolveHistoryLocation } from './location.js';
import { testPgReason, testPgSchema } from './testing.js';
import { seedHistory, seedRuns } from './seed.js';
import { inferenceLatencies } from './metrics.js';
import type { DeviceRunResult, RunResult } from '../scenario/result.js';
import { countChecks, exitCodeFor } from '../scenario/result.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-history-store-'));
const pgt = testPgSchema('hil_store_test');
const pgSeed = testPgSchema('hil_store_seed');
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await pgt?.drop();
  await pgSeed?.drop();
});
if (!pgt) process.stderr.write(`history store tests: ${testPgReason()}\n`);

const PROV = { hilVersion: '9.9.9', host: 'testhost', ci: { system: 'gitlab' as const, job: 'g/p#1/2 nightly' } };

function sampleRun(startedAt = '2026-03-01T02:00:00.000Z'): RunResult {
  const scenarioDir = join(tmp, 'scen');
  mkdirSync(scenarioDir, { recursive: true });
  writeFileSync(join(scenarioDir, 'scenario.yaml'), 'name: demo\n');
  const devices: DeviceRunResult[] = [
    {
      device: 'cam1', connection: '/dev/ttyACM0', profile: 'openmv-h7', simulated: false, durationMs: 1234,
      firmware: { port: 'stm32', api: 'released' },
      identity: {
        platform: 'OpenMV4-H7', machine: 'OpenMV H7 with STM32H743', mpy: null, implementation: { name: 'micropython', version: '1.27.0' },
        uname: { sysname: 'OpenMV4-H7', nodename: 'OpenMV4-H7', release: '1.27.0', version: 'v1.27.0 on 2026-01-01', machine: 'OpenMV H7 with STM32H743' },
        segments: [{ id: 0, access: 'memoryview', origin: 0x90000000, size: 4 << 20 }], uniqueId: 'abcdef0123',
      },
      files: ['/out/cam1/transcript.txt', '/out/cam1/log.txt'],
      scenarios: [{
        scenario: 'demo', path: scenarioDir, device: 'cam1', profile: 'openmv-h7', durationMs: 500,
        image: { source: '/img', kind: 'img', bytes: 4096, sha256: 'aa'.repeat(32), files: 2, fileSha256: { 'main.py': 'bb'.repeat(32), 'm.tflite': 'cc'.repeat(32) } },
        flash: { written: true, strategy: 'rom-ioctl', durationMs: 300, mode: 'auto' },
        attempts: 2,
        previousAttempts: [{
          attempt: 1, reason: 'link closed [phase: exec]', failureClass: 'link', durationMs: 100, transcript: '/out/cam1/transcript.attempt-1.txt',
          checks: [{ name: 'listing', status: 'error', reason: 'link closed', durationMs: 50, details: [], failureClass: 'link' }],
        }],
        checks: [
          { name: 'listing', status: 'passed', durationMs: 10, details: ['3 files'] },
          { name: 'imports', status: 'failed', reason: 'main: ImportError', durationMs: 20, details: [], failureClass: 'product', data: { module: 'main' } },
          { name: 'custom', status: 'failed', reason: 'no class given', durationMs: 1, details: [] },
        ],
      }],
    },
    { device: 'cam2', connection: '/dev/ttyACM1', profile: 'auto', simulated: false, durationMs: 10, scenarios: [], error: { message: 'no answer', exitCode: 3, phase: 'connect', failureClass: 'board' } },
  ];
  return { startedAt, durationMs: 2000, devices, counts: countChecks(devices), exitCode: exitCodeFor(devices), notes: ['a note'] };
}

type Backend = { name: string; location: () => string };
const backends: Backend[] = [{ name: 'SQLite', location: () => join(tmp, `h-${Math.random().toString(36).slice(2)}.sqlite`) }];
if (pgt) backends.push({ name: 'PostgreSQL', location: () => pgt.url });

describe.each(backends)('history store on $name', ({ name, location }) => {
  const where = location();
  let store: HistoryStore;
  afterAll(async () => store?.close());

  it('applies the schema on first use, and only once', async () => {
    store = await openHistory(where);
    const again = await openHistory(where);
    await again.close();
    expect(await store.counts()).toEqual({ runs: 0, attempts: 0, results: 0 });
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(1);
  });

  it('records every attempt and check with its provenance', async () => {
    const id = await store.recordRun(sampleRun(), { provenance: PROV });
    const rows = await store.resultsForRuns([id]);
    expect(rows.map((r) => [r.device, r.scenario, r.attempt, r.final, r.check, r.status, r.failureClass])).toEqual([
      ['cam1', 'demo', 1, false, 'listing', 'error', 'link'],
      ['cam1', 'demo', 2, true, 'listing', 'passed', null],
      ['cam1', 'demo', 2, true, 'imports', 'failed', 'product'],
      ['cam1', 'demo', 2, true, 'custom', 'failed', 'product'],
      ['cam2', '(device)', 1, true, '(device)', 'error', 'board'],
    ]);
    const first = rows[0]!;
    expect(first.transcript).toBe('/out/cam1/transcript.attempt-1.txt');
    expect(first.attemptReason).toBe('link closed [phase: exec]');
    expect(rows[1]!.transcript).toBe('/out/cam1/transcript.txt');
    const imp = rows[2]!;
    expect(imp).toMatchObject({
      hilVersion: '9.9.9', host: 'testhost', ci: PROV.ci, startedAt: '2026-03-01T02:00:00.000Z', profile: 'openmv-h7', firmware: 'stm32/released',
      firmwareVersion: 'v1.27.0 on 2026-01-01', boardId: 'abcdef0123', imageSha256: 'aa'.repeat(32), reason: 'main: ImportError', data: { module: 'main' },
    });
    expect(imp.identity?.uname?.machine).toBe('OpenMV H7 with STM32H743');
    expect(imp.scenarioHash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[4]!.reason).toBe('no answer [phase: connect]');
    expect(await store.imageFiles('aa'.repeat(32))).toEqual({ 'main.py': 'bb'.repeat(32), 'm.tflite': 'cc'.repeat(32) });
    expect((await store.resultsForRuns([id], { finalOnly: true })).length).toBe(4);
  });

  it('a scenario that stopped before its checks is a (scenario) row with its class', async () => {
    const run = sampleRun('2026-03-02T02:00:00.000Z');
    const s = run.devices[0]!.scenarios[0]!;
    s.checks = [];
    delete s.previousAttempts;
    delete s.attempts;
    s.error = { message: 'image: mpy-cross failed', exitCode: 2, phase: 'image' };
    const id = await store.recordRun(run, { provenance: PROV });
    const rows = (await store.resultsForRuns([id])).filter((r) => r.device === 'cam1');
    expect(rows.map((r) => [r.check, r.status, r.failureClass, r.reason])).toEqual([['(scenario)', 'error', 'config', 'image: mpy-cross failed [phase: image]']]);
  });

  it('lists recent runs, newest first, narrowed by device, scenario and time', async () => {
    const all = await store.recentRuns();
    expect(all.map((r) => r.startedAt)).toEqual(['2026-03-02T02:00:00.000Z', '2026-03-01T02:00:00.000Z']);
    expect(all[1]).toMatchObject({ hilVersion: '9.9.9', host: 'testhost', devices: ['cam1', 'cam2'], scenarios: ['demo'], notes: ['a note'], exitCode: 1 });
    expect(all[1]!.counts.failed).toBe(2);
    expect((await store.recentRuns({ limit: 1 })).length).toBe(1);
    expect((await store.recentRuns({ since: new Date('2026-03-01T12:00:00Z') })).length).toBe(1);
    expect((await store.recentRuns({ device: 'cam2' })).length).toBe(2);
    expect((await store.recentRuns({ device: 'nope' })).length).toBe(0);
    expect((await store.recentRuns({ scenario: 'demo', device: 'cam1' })).length).toBe(2);
  });

  it('keeps device states', async () => {
    expect(await store.getDeviceState('cam1')).toBeUndefined();
    await store.setDeviceState('cam1', { state: 'suspect', reason: 'link error', since: '2026-03-01T02:00:00.000Z', consecutiveFailures: 1 });
    await store.setDeviceState('cam0', { state: 'ok', reason: null, since: '2026-03-01T02:00:00.000Z', consecutiveFailures: 0 });
    await store.setDeviceState('cam1', { state: 'bad', reason: '3 consecutive infra errors', since: '2026-03-02T02:00:00.000Z', consecutiveFailures: 3 });
    expect(await store.getDeviceState('cam1')).toMatchObject({ device: 'cam1', state: 'bad', reason: '3 consecutive infra errors', since: '2026-03-02T02:00:00.000Z', consecutiveFailures: 3 });
    expect((await store.listDeviceStates()).map((s) => [s.device, s.state])).toEqual([['cam0', 'ok'], ['cam1', 'bad']]);
    await expect(store.setDeviceState('cam1', { state: 'broken' as 'ok', reason: null, since: 'x', consecutiveFailures: 0 })).rejects.toThrow(/ok, suspect or bad/);
  });

  it('keeps health states per board, labelled with the bench name; the newest under a name applies to it', async () => {
    await store.setDeviceState('cam7', { state: 'suspect', reason: 'not identified', since: '2026-03-01T02:00:00.000Z', consecutiveFailures: 1 });
    expect(await store.getDeviceState('cam7')).toMatchObject({ device: 'cam7', boardId: null, state: 'suspect' });
    // A board identified under cam7: its state is written, the name's own record is gone.
    await store.setDeviceState('cam7', { state: 'bad', reason: 'x', since: '2026-03-02T02:00:00.000Z', consecutiveFailures: 3, boardId: 'b0a7d' });
    expect(await store.getDeviceState('cam7')).toMatchObject({ device: 'cam7', boardId: 'b0a7d', state: 'bad' });
    // Another board under cam7: it applies there now; the first keeps its state under its id.
    await store.setDeviceState('cam7', { state: 'ok', reason: null, since: '2026-03-03T02:00:00.000Z', consecutiveFailures: 0, boardId: 'c0ffee' });
    expect(await store.getDeviceState('cam7')).toMatchObject({ boardId: 'c0ffee', state: 'ok' });
    expect(await store.getBoardState('b0a7d')).toMatchObject({ device: 'cam7', state: 'bad', consecutiveFailures: 3 });
    expect((await store.listDeviceStates()).filter((x) => x.device === 'cam7').map((x) => [x.boardId, x.state])).toEqual([['c0ffee', 'ok']]);
    // The bad board seen under cam8: its state moves with it.
    await store.setDeviceState('cam8', { state: 'bad', reason: 'x', since: '2026-03-02T02:00:00.000Z', consecutiveFailures: 3, boardId: 'b0a7d' });
    expect(await store.getDeviceState('cam8')).toMatchObject({ boardId: 'b0a7d', state: 'bad' });
    expect(await store.getBoardState('nope')).toBeUndefined();
  });

  it('holds a seeded history (16 x 3 x 60 in the bench; 4 x 3 x 10 here)', async () => {
    const seeded = await openHistory(name === 'SQLite' ? location() : pgSeed!.url);
    try {
      const opts = { devices: 4, nights: 10, regressionNight: 6, firmwareNight: 8 };
      const ids = await seedHistory(seeded, opts);
      expect(ids.length).toBe(10);
      const rows = await seeded.resultsForRuns(ids);
      const runs = seedRuns(opts);
      const want = runs.flatMap((r) => r.devices.flatMap((d) => d.scenarios.flatMap((s) => [...(s.previousAttempts ?? []).flatMap((p) => p.checks), ...s.checks])));
      const devErrors = runs.flatMap((r) => r.devices.filter((d) => d.error)).length;
      expect(devErrors).toBe(3);
      expect(rows.length).toBe(want.length + devErrors);
      expect(rows.filter((r) => r.status === 'failed').length).toBe(want.filter((c) => c.status === 'failed').length);
    } finally {
      await seeded.close();
    }
  });
});

describe.each(backends)('what the report reads, on $name', ({ name, location }) => {
  let store: HistoryStore;
  let ids: number[] = [];
  const pgv = name === 'PostgreSQL' ? testPgSchema('hil_store_verdicts') : null;
  beforeAll(async () => {
    store = await openHistory(pgv ? pgv.url : location());
    ids = await seedHistory(store, { devices: 4, nights: 12, regressionNight: 6, firmwareNight: 8 });
    // One run of its own with a retried attempt, a scenario error and a device never reached.
    ids.push(await store.recordRun(sampleRun('2026-02-01T02:00:00.000Z'), { provenance: PROV }));
  }, 120_000);
  afterAll(async () => {
    await store?.close();
    await pgv?.drop();
  });

  it('verdicts are the full rows\' own columns, with flash figures and latencies as recorded', async () => {
    const full = await store.resultsForRuns(ids);
    const narrow = await store.verdicts(ids);
    const keys = ['runId', 'startedAt', 'hilVersion', 'device', 'scenario', 'scenarioHash', 'attempt', 'final', 'attemptReason', 'attemptFailureClass', 'transcript', 'profile', 'firmware', 'firmwareVersion', 'boardId', 'imageSha256', 'imageBytes', 'check', 'status', 'failureClass', 'reason', 'durationMs'] as const;
    const pick = (r: VerdictRow | ResultRow) => Object.fromEntries(keys.map((k) => [k, r[k]]));
    expect(narrow.map(pick)).toEqual(full.map(pick));
    expect(narrow.map((r) => r.latencies)).toEqual(full.map((r) => (r.check === 'models.inference' ? inferenceLatencies(r.data) : [])));
    expect(narrow.map((r) => [r.flashMs, r.flashWritten])).toEqual(full.map((r) => (r.flash ? [r.flash.durationMs, r.flash.written] : [null, null])));
    expect(narrow.some((r) => r.latencies.length > 0) && narrow.some((r) => r.flashWritten === true)).toBe(true);
    const cam1 = await store.verdicts(ids, { device: 'cam1', finalOnly: true });
    expect(cam1.map(pick)).toEqual(full.filter((r) => r.device === 'cam1' && r.final).map(pick));
  });

  it('a v1 history is brought to the current schema: flash figures and latencies filled from what v1 recorded, states kept', async () => {
    const where = pgv ? testPgSchema('hil_store_v1') : null;
    const file = where ? where.url : location();
    try {
      const s = await openHistory(file);
      const runIds = await seedHistory(s, { devices: 2, nights: 3 });
      const want = await s.verdicts(runIds);
      await s.close();
      await downgradeToV1(file, [['cam01', 'bad', 'x', '2026-01-01T00:00:00.000Z', 3, '2026-01-01T00:00:00.000Z']]);
      const again = await openHistory(file);
      try {
        expect(await again.verdicts(runIds)).toEqual(want);
        expect((await again.recentRuns()).map((r) => r.kind)).toEqual(['run', 'run', 'run']);
        expect(await again.getDeviceState('cam01')).toMatchObject({ device: 'cam01', boardId: null, state: 'bad', reason: 'x', consecutiveFailures: 3 });
      } finally {
        await again.close();
      }
    } finally {
      await where?.drop();
    }
  });

  it('a health run is recorded as one of kind health, told apart from hil run\'s', async () => {
    const id = await store.recordRun(sampleRun('2026-02-02T02:00:00.000Z'), { provenance: PROV, kind: 'health' });
    expect((await store.recentRuns({ limit: 1 }))[0]).toMatchObject({ id, kind: 'health' });
    expect((await store.recentRuns({ kind: 'run', limit: 1 }))[0]!.id).toBe(ids[ids.length - 1]);
    expect((await store.recentRuns({ kind: 'health' })).map((r) => r.id)).toEqual([id]);
  });
});

/**
 * Turns a current history back into what hil's schema v1 made (its tables as v1 created them, the
 * later migrations' additions removed, hil_schema at 1), with v1 device states `[device, state,
 * reason, since, failures, updated]`.
 */
async function downgradeToV1(where: string, states: [string, string, string | null, string, number, string][]): Promise<void> {
  const v1States = `CREATE TABLE hil_device_states (device TEXT PRIMARY KEY, state TEXT NOT NULL, reason TEXT, since TEXT NOT NULL, consecutive_failures INTEGER NOT NULL, updated_at TEXT NOT NULL)`;
  const steps = ['DROP TABLE hil_latencies', 'DROP TABLE hil_health', 'ALTER TABLE hil_runs DROP COLUMN kind', 'ALTER TABLE hil_attempts DROP COLUMN flash_ms', 'ALTER TABLE hil_attempts DROP COLUMN flash_written', v1States, 'DELETE FROM hil_schema WHERE version > 1'];
  if (where.startsWith('postgres')) {
    const { default: pg } = await import('pg');
    const { parsePgUrl, quoteIdent } = await import('./postgres.js');
    const { connectionString, schema } = parsePgUrl(where);
    const c = new pg.Client({ connectionString });
    await c.connect();
    try {
      await c.query(`SET search_path TO ${quoteIdent(schema!)}`);
      for (const q of steps) await c.query(q);
      for (const st of states) await c.query('INSERT INTO hil_device_states VALUES ($1, $2, $3, $4, $5, $6)', st);
    } finally {
      await c.end();
    }
    return;
  }
  const db = new Database(where);
  try {
    for (const q of steps) db.exec(q);
    for (const st of states) db.prepare('INSERT INTO hil_device_states VALUES (?, ?, ?, ?, ?, ?)').run(...st);
  } finally {
    db.close();
  }
}

describe('history that cannot be used', () => {
  it('a corrupt SQLite file is set aside (renamed, bytes kept) and a new history started', async () => {
    const file = join(tmp, 'corrupt', 'history.sqlite');
    mkdirSync(join(tmp, 'corrupt'));
    const junk = Buffer.from('this is not a database '.repeat(200));
    writeFileSync(file, junk);
    const warnings: string[] = [];
    const id = await recordRunQuietly(resolveHistoryLocation({ flag: file }), sampleRun(), { provenance: PROV, onWarning: (w) => warnings.push(w) });
    expect(id).toBe(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^history ${file} was not a readable SQLite database: set aside as ${file}\\.corrupt-\\S+, started a new one$`));
    const aside = readdirSync(join(tmp, 'corrupt')).filter((f) => f.includes('.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(tmp, 'corrupt', aside[0]!)).equals(junk)).toBe(true);
    const db = new Database(file, { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM hil_runs').get() as { n: number }).n).toBe(1);
    db.close();
  });

  it('damage found while writing (pages after the schema) sets the file aside too, and the run is recorded anew', async () => {
    const dir = join(tmp, 'damaged');
    mkdirSync(dir);
    const file = join(dir, 'history.sqlite');
    const s = await openHistory(file);
    for (let i = 0; i < 20; i++) await s.recordRun(sampleRun(), { provenance: PROV });
    await s.close();
    const bytes = readFileSync(file);
    const pageSize = bytes.readUInt16BE(16);
    // Page 1 (header and schema) stays; every other page becomes junk.
    for (let o = pageSize; o < bytes.length; o++) bytes[o] = (o * 7) & 0xff;
    writeFileSync(file, bytes);
    const warnings: string[] = [];
    const id = await recordRunQuietly(resolveHistoryLocation({ flag: file }), sampleRun(), { provenance: PROV, onWarning: (w) => warnings.push(w) });
    expect(warnings).toEqual([expect.stringMatching(/^history .*history\.sqlite is damaged \(.*\): set aside as .*\.corrupt-\S+, started a new one$/)]);
    expect(id).toBe(1);
    const aside = readdirSync(dir).filter((f) => f.includes('.corrupt-') && !/-(wal|shm)$/.test(f));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, aside[0]!)).equals(bytes)).toBe(true);
  });

  it('a history that cannot be opened is one warning, nothing thrown', async () => {
    const blocker = join(tmp, 'afile');
    writeFileSync(blocker, 'x');
    const warnings: string[] = [];
    const id = await recordRunQuietly(resolveHistoryLocation({ flag: join(blocker, 'sub', 'h.sqlite') }), sampleRun(), { onWarning: (w) => warnings.push(w) });
    expect(id).toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/^history not recorded \(.*afile\/sub\/h\.sqlite\): .*(ENOTDIR|EEXIST)/)]);
    expect(existsSync(blocker)).toBe(true);
  });

  it('a PostgreSQL server that does not answer is one warning within the deadline, nothing thrown', async () => {
    const warnings: string[] = [];
    // Port 1 on localhost: connection refused at once.
    const id = await recordRunQuietly(resolveHistoryLocation({ flag: 'postgres://hil:secret@127.0.0.1:1/nope' }), sampleRun(), { onWarning: (w) => warnings.push(w), connectTimeoutMs: 2000 });
    expect(id).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^history not recorded \(postgres:\/\/hil:\*\*\*@127\.0\.0\.1:1\/nope\): .*ECONNREFUSED/);
    expect(warnings[0]).not.toContain('secret');
  });

  it('a history with a newer schema than this hil is not written to', async () => {
    const file = join(tmp, 'newer.sqlite');
    (await openHistory(file)).close();
    const db = new Database(file);
    db.prepare('INSERT INTO hil_schema (version, applied_at) VALUES (?, ?)').run(SCHEMA_VERSION + 1, 'x');
    db.close();
    const warnings: string[] = [];
    expect(await recordRunQuietly(resolveHistoryLocation({ flag: file }), sampleRun(), { onWarning: (w) => warnings.push(w) })).toBeUndefined();
    expect(warnings[0]).toContain(`history schema version ${SCHEMA_VERSION + 1} is newer than this hil's (${SCHEMA_VERSION}); not recording`);
  });

  it('a write that fails leaves no half-recorded run', async () => {
    const file = join(tmp, 'ro.sqlite');
    const s = await openHistory(file);
    const run = sampleRun();
    // A result the schema refuses (status is NOT NULL) fails the last insert, after the run row.
    (run.devices[0]!.scenarios[0]!.checks[2] as { status: unknown }).status = null;
    // hil's own error class: better-sqlite3's own errors, made with the error constructor of the
    // first test file of a jest worker that loaded it, are not `instanceof Error` in a later file
    // (so `rejects.toThrow` saw "did not throw" in batch runs, never alone).
    const err = await s.recordRun(run).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(HistoryDbError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'SQLITE_CONSTRAINT_NOTNULL', message: expect.stringMatching(/NOT NULL/i), exitCode: 3 });
    expect(await s.counts()).toEqual({ runs: 0, attempts: 0, results: 0 });
    await s.close();
  });
});

describe('where the history lives', () => {
  it('flag, then HIL_HISTORY, then $XDG_STATE_HOME/hil, then ~/.local/state/hil; off', () => {
    expect(resolveHistoryLocation({ env: { XDG_STATE_HOME: '/st' } })).toEqual({ kind: 'sqlite', file: '/st/hil/history.sqlite' });
    expect(resolveHistoryLocation({ env: { HOME: '/h' } }).kind).toBe('sqlite');
    expect(resolveHistoryLocation({ env: {} , flag: 'x.sqlite', cwd: '/w' })).toEqual({ kind: 'sqlite', file: '/w/x.sqlite' });
    expect(resolveHistoryLocation({ env: { HIL_HISTORY: 'postgres://h/db' } })).toEqual({ kind: 'postgres', url: 'postgres://h/db' });
    expect(resolveHistoryLocation({ env: { HIL_HISTORY: 'postgres://h/db' }, flag: '/a.sqlite' })).toEqual({ kind: 'sqlite', file: '/a.sqlite' });
    expect(resolveHistoryLocation({ env: { HIL_HISTORY: 'off' } })).toEqual({ kind: 'off' });
    expect(resolveHistoryLocation({ env: {}, flag: '/a', off: true })).toEqual({ kind: 'off' });
  });
});
