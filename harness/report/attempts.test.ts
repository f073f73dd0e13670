/**
 * JUnit per-testcase properties and retried attempts as Maven Surefire writes reruns
 * (surefire-test-report-3.0.xsd), and the CTRF report (ctrf-io/ctrf schema/ctrf.schema.json),
 * both from constructed results with earlier attempts.
 */
import { describe, expect, it } from '@jest/globals';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { makeRunResult, type AttemptEvidence, type CheckResult, type DeviceRunResult } from '../scenario/result.js';
import { toJUnit } from './junit.js';
import { toCtrf, type CtrfReport } from './ctrf.js';

const check = (name: string, status: CheckResult['status'], extra: Partial<CheckResult> = {}): CheckResult => ({ name, status, durationMs: 20, details: [], ...extra });
const identity = {
  platform: 'openmv', machine: 'OPENMV4P-STM32H743', mpy: null,
  implementation: { name: 'micropython', version: '1.27.0' },
  uname: { sysname: 'openmv', nodename: 'openmv', release: '1.27.0', version: 'v1.27.0-openmv on 2026-01-01', machine: 'OPENMV4P-STM32H743' },
  segments: null, uniqueId: '3a0045001851333234363839',
};
const linkDrop: AttemptEvidence = {
  attempt: 1, reason: 'link closed while waiting (transfer)', failureClass: 'link', durationMs: 900, transcript: '/out/cam1/attempt-1/transcript.txt',
  checks: [check('listing', 'passed'), check('imports', 'error', { reason: 'no answer from the board', failureClass: 'board' })],
};
const beforeChecks: AttemptEvidence = {
  attempt: 2, reason: 'board did not answer after reset', failureClass: 'board', durationMs: 500,
  checks: [], error: { message: 'cam1: no answer after soft reset', exitCode: 3, phase: 'reset' },
};
const dev = (checks: CheckResult[], previousAttempts: AttemptEvidence[]): DeviceRunResult => ({
  device: 'cam1', connection: '/dev/ttyACM0', profile: 'openmv-h7', simulated: false, durationMs: 3000, identity,
  files: ['/out/cam1/transcript.txt', '/out/cam1/log.txt'],
  scenarios: [{
    scenario: 'model-load', path: '/s/model-load', device: 'cam1', profile: 'openmv-h7', durationMs: 2900, checks,
    image: { source: 'images/demo', kind: 'source', bytes: 1000, sha256: 'cd'.repeat(32), files: 3 },
    attempts: previousAttempts.length + 1, previousAttempts,
  }],
});
// Third attempt: listing passes, imports now passes (flaky: it errored in attempt 1, and attempt 2
// stopped before it), models.placement fails for real (product) after attempt 2 never reached it.
const flakyRun = makeRunResult([dev([
  check('listing', 'passed'),
  check('imports', 'passed', { details: ['all 4 modules import'] }),
  check('models.placement', 'failed', { reason: 'model.tflite: not 16-byte aligned', failureClass: 'product', details: ['model.tflite at 0x90000004'] }),
], [linkDrop, beforeChecks])], new Date('2026-11-30T02:00:00.000Z'));

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['testsuite', 'testcase', 'property', 'flakyFailure', 'flakyError', 'rerunFailure', 'rerunError'].includes(n) });
type XCase = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('JUnit: per-testcase properties and Surefire reruns', () => {
  const xml = toJUnit(flakyRun);
  const cases = parser.parse(xml).testsuites.testsuite[0].testcase as XCase[];
  const byName = (n: string) => cases.find((c) => c.name === n)!;
  const props = (c: XCase) => Object.fromEntries((c.properties.property as { name: string; value: string }[]).map((p) => [p.name, p.value]));

  it('is well-formed', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
  });

  it('gives every testcase its device identity, firmware, image sha, profile, attempts and transcript', () => {
    for (const c of cases) {
      expect(props(c)).toMatchObject({
        device: 'cam1', 'device.uniqueId': '3a0045001851333234363839', 'device.machine': 'OPENMV4P-STM32H743', profile: 'openmv-h7',
        firmware: 'micropython 1.27.0; v1.27.0-openmv on 2026-01-01', 'image.sha256': 'cd'.repeat(32), attempts: '3', transcript: '/out/cam1/transcript.txt',
      });
    }
    expect(props(byName('models.placement'))['failure.class']).toBe('product');
    expect(props(byName('listing'))['failure.class']).toBeUndefined();
  });

  it('keeps a check that passed only after retries as passed, with one flakyError per attempt that did not pass', () => {
    const c = byName('imports');
    expect(c.failure).toBeUndefined();
    expect(c.error).toBeUndefined();
    expect(c.flakyError).toHaveLength(2);
    expect(c.flakyError[0]).toMatchObject({ message: 'no answer from the board', type: 'board' });
    expect(c.flakyError[0].stackTrace).toContain('no answer from the board');
    expect(c.flakyError[0]['system-out']).toBe('attempt 1 (transcript /out/cam1/attempt-1/transcript.txt): link closed while waiting (transfer)');
    expect(c.flakyError[1]).toMatchObject({ message: 'attempt 2 stopped before this check: cam1: no answer after soft reset', type: 'board' });
    expect(c.flakyError[1].stackTrace).toContain('phase: reset');
    expect(c['system-out']).toBe('all 4 modules import');
  });

  it('writes no rerun element for an attempt in which the check passed', () => {
    const c = byName('listing');
    // attempt 1 passed it, attempt 2 stopped before it: only the second counts.
    expect(c.flakyError).toHaveLength(1);
    expect(c.flakyError[0].message).toMatch(/^attempt 2 stopped before this check/);
    expect(c.flakyFailure).toBeUndefined();
  });

  it('keeps the verdict in <failure> and the earlier attempts as <rerunError>, in the XSD order', () => {
    const c = byName('models.placement');
    expect(c.failure).toMatchObject({ message: 'model.tflite: not 16-byte aligned', type: 'product' });
    expect(c.rerunError).toHaveLength(2);
    expect(c.flakyError).toBeUndefined();
    const block = xml.slice(xml.indexOf('name="models.placement"'));
    const order = ['<properties>', '<failure ', '<rerunError '].map((t) => block.indexOf(t));
    expect(order.every((x, i) => x >= 0 && (i === 0 || x > order[i - 1]!))).toBe(true);
  });

  it('writes a failure seen in an earlier attempt as flakyFailure / rerunFailure (type = failure class)', () => {
    const earlier: AttemptEvidence = { attempt: 1, reason: 'board reset during check', failureClass: 'board', durationMs: 1, checks: [check('imports', 'failed', { reason: 'ImportError: mylib', failureClass: 'product' })] };
    const passedLater = cases0(toJUnit(makeRunResult([dev([check('imports', 'passed')], [earlier])], new Date())));
    expect(passedLater.flakyFailure).toEqual([expect.objectContaining({ message: 'ImportError: mylib', type: 'product' })]);
    const failedLater = cases0(toJUnit(makeRunResult([dev([check('imports', 'failed', { reason: 'ImportError: mylib', failureClass: 'product' })], [earlier])], new Date())));
    expect(failedLater.rerunFailure).toEqual([expect.objectContaining({ message: 'ImportError: mylib', type: 'product' })]);
    expect(failedLater.flakyFailure).toBeUndefined();
  });

  it('gives a failed check made without a class the history\'s default (product)', () => {
    const c = cases0(toJUnit(makeRunResult([dev([check('mine', 'failed', { reason: 'custom check said no' })], [])], new Date())));
    expect(props(c)['failure.class']).toBe('product');
    expect(c.failure.type).toBe('product');
  });

  it('counts by the verdict only (a flaky pass is not a failure)', () => {
    const s = parser.parse(xml).testsuites.testsuite[0];
    expect([s.tests, s.failures, s.errors, s.skipped]).toEqual(['3', '1', '0', '0']);
  });
});

function cases0(xml: string): XCase {
  expect(XMLValidator.validate(xml)).toBe(true);
  return (parser.parse(xml).testsuites.testsuite[0].testcase as XCase[])[0]!;
}

/**
 * The CTRF schema's facts this report relies on (ctrf-io/ctrf schema/ctrf.schema.json): required
 * fields and, for each closed object (additionalProperties: false), the keys it allows.
 */
const CTRF = {
  root: { required: ['results', 'reportFormat', 'specVersion'], allowed: ['reportFormat', 'specVersion', 'reportId', 'timestamp', 'generatedBy', 'extra', 'results', 'insights', 'baseline'] },
  results: { required: ['tool', 'summary', 'tests'], allowed: ['tool', 'summary', 'tests', 'environment', 'extra'] },
  tool: { required: ['name'], allowed: ['name', 'version', 'extra'] },
  summary: { required: ['tests', 'passed', 'failed', 'skipped', 'pending', 'other', 'start', 'stop'], allowed: ['tests', 'passed', 'failed', 'skipped', 'pending', 'other', 'flaky', 'suites', 'start', 'stop', 'duration', 'extra'] },
  test: { required: ['name', 'status', 'duration'], allowed: ['id', 'name', 'status', 'duration', 'start', 'stop', 'suite', 'message', 'trace', 'snippet', 'ai', 'line', 'rawStatus', 'tags', 'type', 'filePath', 'retries', 'retryAttempts', 'flaky', 'stdout', 'stderr', 'threadId', 'browser', 'device', 'screenshot', 'attachments', 'parameters', 'steps', 'insights', 'extra'] },
  attempt: { required: ['attempt', 'status'], allowed: ['attempt', 'status', 'duration', 'message', 'trace', 'line', 'snippet', 'stdout', 'stderr', 'start', 'stop', 'attachments', 'extra'] },
  attachment: { required: ['name', 'contentType', 'path'], allowed: ['name', 'contentType', 'path', 'extra'] },
  environment: { required: [], allowed: ['reportName', 'appName', 'appVersion', 'buildId', 'buildName', 'buildNumber', 'buildUrl', 'repositoryName', 'repositoryUrl', 'commit', 'branchName', 'osPlatform', 'osRelease', 'osVersion', 'testEnvironment', 'healthy', 'extra'] },
};
const STATUSES = ['passed', 'failed', 'skipped', 'pending', 'other'];

function conform(o: object, rule: { required: string[]; allowed: string[] }, at: string): string[] {
  const errs = rule.required.filter((k) => !(k in o)).map((k) => `${at}: missing ${k}`);
  for (const k of Object.keys(o)) if (!rule.allowed.includes(k)) errs.push(`${at}: ${k} is not allowed`);
  return errs;
}

function ctrfProblems(r: CtrfReport): string[] {
  const e = conform(r, CTRF.root, 'root');
  if (r.reportFormat !== 'CTRF') e.push('reportFormat');
  if (!/^[0-9]+\.[0-9]+\.[0-9]+$/.test(r.specVersion)) e.push('specVersion');
  e.push(...conform(r.results, CTRF.results, 'results'), ...conform(r.results.tool, CTRF.tool, 'tool'), ...conform(r.results.summary, CTRF.summary, 'summary'));
  if (r.results.environment) e.push(...conform(r.results.environment, CTRF.environment, 'environment'));
  for (const [k, v] of Object.entries(r.results.summary)) if (k !== 'extra' && !Number.isInteger(v)) e.push(`summary.${k} not an integer`);
  for (const [i, t] of r.results.tests.entries()) {
    e.push(...conform(t, CTRF.test, `tests[${i}]`));
    if (!STATUSES.includes(t.status)) e.push(`tests[${i}].status ${t.status}`);
    if (!Number.isInteger(t.duration)) e.push(`tests[${i}].duration`);
    if (typeof t.name !== 'string' || t.name.length < 1) e.push(`tests[${i}].name`);
    for (const a of t.attachments ?? []) e.push(...conform(a, CTRF.attachment, `tests[${i}].attachments`));
    for (const [j, a] of (t.retryAttempts ?? []).entries()) {
      e.push(...conform(a, CTRF.attempt, `tests[${i}].retryAttempts[${j}]`));
      if (!STATUSES.includes(a.status) || !(Number.isInteger(a.attempt) && a.attempt >= 1)) e.push(`tests[${i}].retryAttempts[${j}]`);
      for (const x of a.attachments ?? []) e.push(...conform(x, CTRF.attachment, `tests[${i}].retryAttempts[${j}].attachments`));
    }
  }
  return e;
}

describe('CTRF report', () => {
  const mixed = makeRunResult([
    dev([check('listing', 'passed'), check('imports', 'passed'), check('models.placement', 'failed', { reason: 'not aligned', failureClass: 'product' })], [linkDrop, beforeChecks]),
    { ...dev([check('models.inference', 'simulated', { reason: 'network not run' }), check('extra', 'skipped', { reason: 'no ml' }), check('net', 'error', { reason: 'hung', failureClass: 'board' })], []), device: 'sim' },
    { ...dev([], []), device: 'cam3', scenarios: [], error: { message: 'cam3 is leased by PID 1', exitCode: 3, phase: 'lease' } },
  ], new Date('2026-11-30T02:00:00.000Z'));
  const report = toCtrf(mixed, { hilVersion: '0.1.0', now: new Date('2026-11-30T02:05:00.000Z') });

  it('has exactly the fields the schema requires and only those it allows', () => {
    expect(ctrfProblems(report)).toEqual([]);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('maps statuses without ever turning error or simulated into a pass, and counts match', () => {
    const st = Object.fromEntries(report.results.tests.map((t) => [`${t.device}/${t.name}`, [t.status, t.rawStatus]]));
    expect(st).toMatchObject({
      'cam1/listing': ['passed', undefined], 'cam1/models.placement': ['failed', undefined],
      'sim/models.inference': ['other', 'simulated'], 'sim/extra': ['skipped', 'skipped'], 'sim/net': ['failed', 'error'], 'cam3/setup': ['failed', 'error'],
    });
    const s = report.results.summary;
    expect([s.tests, s.passed, s.failed, s.skipped, s.other, s.pending]).toEqual([7, 2, 3, 1, 1, 0]);
    expect(s.start).toBe(Date.parse('2026-11-30T02:00:00.000Z'));
    expect(s.stop).toBeGreaterThanOrEqual(s.start);
  });

  it('keeps every attempt (verdict last), marks a pass after failed attempts flaky, and names the transcripts', () => {
    const imports = report.results.tests.find((t) => t.device === 'cam1' && t.name === 'imports')!;
    expect(imports.retries).toBe(2);
    expect(imports.flaky).toBe(true);
    expect(imports.retryAttempts!.map((a) => [a.attempt, a.status])).toEqual([[1, 'failed'], [2, 'failed'], [3, 'passed']]);
    expect(imports.retryAttempts![0]!.attachments).toEqual([{ name: 'transcript', contentType: 'text/plain', path: '/out/cam1/attempt-1/transcript.txt' }]);
    expect(imports.retryAttempts![1]!.message).toBe('attempt 2 stopped before this check: cam1: no answer after soft reset');
    const listing = report.results.tests.find((t) => t.device === 'cam1' && t.name === 'listing')!;
    expect(listing.retryAttempts!.map((a) => a.status)).toEqual(['passed', 'failed', 'passed']);
    expect(listing.flaky).toBe(true);
    const placement = report.results.tests.find((t) => t.name === 'models.placement')!;
    expect(placement.flaky).toBe(false);
    expect(placement.extra).toMatchObject({ failureClass: 'product', uniqueId: '3a0045001851333234363839', imageSha256: 'cd'.repeat(32), attempts: 3, firmware: 'micropython 1.27.0; v1.27.0-openmv on 2026-01-01' });
    expect(report.results.summary.flaky).toBe(2);
  });
});
