/**
 * The query module on a real store (SQLite; and PostgreSQL with HIL_TEST_POSTGRES) holding a
 * seeded history (harness/history/seed.ts, 16 devices x 3 scenarios x 20 nights, regression on
 * night 12): the report's data carries the seeded story, and its regressions and flaky checks
 * are the history's own answers (harness/history/queries.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openHistory, type HistoryStore } from '../../history/index.js';
import { seedHistory, seedProvenance, seedRuns } from '../../history/seed.js';
import { testPgReason, testPgSchema } from '../../history/testing.js';
import { queryReportData } from './query.js';
import type { ReportData } from './data.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-report-query-'));
const pg = testPgSchema('hil_report_query');
if (!pg) process.stdout.write(`SKIP PostgreSQL: ${testPgReason()}\n`);
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await pg?.drop();
});
const SEED = { nights: 20, regressionNight: 12, firmwareNight: 16 };
const backends = [{ name: 'SQLite', where: join(tmp, 'h.sqlite') }, ...(pg ? [{ name: 'PostgreSQL', where: pg.url }] : [])];

describe.each(backends)('report data from a seeded history on $name', ({ where }) => {
  let store: HistoryStore;
  let ids: number[] = [];
  let data: ReportData;
  let healthId = 0;
  beforeAll(async () => {
    store = await openHistory(where);
    ids = await seedHistory(store, SEED);
    await store.setDeviceState('cam16', { state: 'bad', reason: 'no answer on 3 nights', since: '2026-01-20T02:30:00.000Z', consecutiveFailures: 3 });
    await store.setDeviceState('cam01', { state: 'bad', reason: 'long ago', since: '2025-12-01T00:00:00.000Z', consecutiveFailures: 3 });
    // A `hil device health cam02` after the last night, failing its listing.
    const night = seedRuns({ ...SEED, devices: 4, nights: 4 })[0]!;
    const dev = night.devices[1]!;
    dev.scenarios = [{ ...dev.scenarios[0]!, scenario: 'health', checks: [{ name: 'listing', status: 'failed', reason: 'x.py missing', durationMs: 5, details: [], failureClass: 'product' }] }];
    healthId = await store.recordRun({ ...night, startedAt: '2026-01-20T09:00:00.000Z', devices: [dev] }, { provenance: seedProvenance(19, SEED), kind: 'health' });
    data = await queryReportData(store, { hilVersion: 'test', gridRuns: 5, windowRuns: 20, now: new Date('2026-01-21T00:00:00Z') });
  }, 120_000);
  afterAll(async () => store?.close());

  it('shows the newest 5 runs against the one before', () => {
    expect(data.runs.map((r) => r.id)).toEqual(ids.slice(-5).map(String));
    expect([data.changes.current?.id, data.changes.previous?.id]).toEqual([String(ids[19]), String(ids[18])]);
    expect(data.runs[4]!.hilVersion).toBe('0.2.0');
  });

  it('keeps the health run out of the grid and shows it with the device\'s health', () => {
    expect(data.runs.map((r) => r.id)).not.toContain(String(healthId));
    expect(data.rows.some((r) => r.scenario === 'health')).toBe(false);
    expect(data.devices.find((d) => d.name === 'cam02')!.lastHealth).toEqual({ runId: String(healthId), startedAt: '2026-01-20T09:00:00.000Z', status: 'failed', reason: 'listing: x.py missing', transcript: expect.stringMatching(/transcript\.txt$/) });
    expect(data.devices.find((d) => d.name === 'cam03')!.lastHealth).toBeUndefined();
  });

  it('has the regression still failing since its night, and no infra error counted as a regression', () => {
    const still = data.changes.stillFailing.map((c) => `${c.device} ${c.scenario} ${c.check} ${c.failingSince?.runs}`);
    expect(still).toEqual(['cam03 model-load models.inference 8', 'cam04 model-load models.inference 8', 'cam05 model-load models.inference 8']);
    expect(data.changes.newFailures).toEqual([]);
    expect([...data.changes.newFailures, ...data.changes.fixed, ...data.changes.stillFailing].some((c) => c.device === 'cam12' || c.device === 'cam16')).toBe(false);
  });

  it('lists the device gone bad since the previous run (not one bad for long)', () => {
    expect(data.changes.devicesGoneBad.map((d) => d.device)).toEqual(['cam16']);
    expect(data.devices.find((d) => d.name === 'cam01')!.state).toBe('bad');
  });

  it('finds the flaky check with its evidence, and cam12\'s rising link errors as the device\'s', () => {
    const cam07 = data.flaky.filter((f) => f.device === 'cam07');
    expect(cam07.map((f) => `${f.scenario} ${f.check}`)).toEqual(expect.arrayContaining(['inference models.inference']));
    expect(cam07[0]!.evidence[0]!.reason).toBe('/rom/person.tflite: first inference failed: MemoryError');
    expect(data.flaky.some((f) => f.device === 'cam12')).toBe(false);
    const cam12 = data.devices.find((d) => d.name === 'cam12')!;
    expect(cam12.infraRising).toBe(true);
    expect(cam12.infraErrors).toBeGreaterThan(0);
  });

  it('draws the trends from what was recorded: flash throughput where written, latency per model', () => {
    const [flash, , inf] = data.charts;
    expect(flash!.x).toHaveLength(20);
    const cam01 = flash!.series.find((s) => s.label === 'cam01')!.values;
    expect(cam01.filter((v) => v !== null)).toHaveLength(2);
    expect(cam01[0]).toBeGreaterThan(0);
    expect(inf!.series.map((s) => s.label)).toEqual(['/rom/person.tflite']);
    expect(inf!.series[0]!.values.every((v) => typeof v === 'number')).toBe(true);
  });
});
