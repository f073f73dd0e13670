/** Reports: JUnit XML parses and its counts match the run; console colour rules; JSON round trip. */
import { describe, expect, it } from '@jest/globals';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { makeRunResult, type DeviceRunResult, type CheckResult } from '../scenario/result.js';
import { toJUnit } from './junit.js';
import { formatConsole } from './console.js';
import { useColour } from './colour.js';
import { toJsonReport } from './json.js';

const check = (name: string, status: CheckResult['status'], reason?: string, details: string[] = []): CheckResult => ({ name, status, reason, durationMs: 12.5, details });
const device = (name: string, checks: CheckResult[], extra: Partial<DeviceRunResult> = {}): DeviceRunResult => ({
  device: name, connection: 'sim:openmv-h7', profile: 'openmv-h7', simulated: true, durationMs: 1500,
  scenarios: [{ scenario: 'model-load', path: '/x', device: name, profile: 'openmv-h7', durationMs: 1400, checks, image: { source: 'images/demo', kind: 'source', bytes: 92_000, sha256: 'ab'.repeat(32), files: 7 } }],
  ...extra,
});
const run = makeRunResult([
  device('cam1', [check('listing', 'passed'), check('imports', 'passed'), check('models.placement', 'passed'), check('models.inference', 'simulated', 'simulated board: network not run')]),
  device('cam2 <&>', [check('listing', 'failed', "lib/x.py: 3 bytes on the board, 4 in the image", ['lib/x.py: 3 bytes on the board, 4 in the image', 'ctrl \u0001 char']), check('models.inference', 'skipped', 'no ml module on this firmware')]),
  { ...device('cam3', []), scenarios: [], error: { message: 'device cam3 is leased by PID 1', exitCode: 3, phase: 'lease' } },
], new Date('2026-11-25T08:00:00.000Z'));

describe('JUnit XML', () => {
  const xml = toJUnit(run);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (n) => ['testsuite', 'testcase', 'property'].includes(n) }).parse(xml);

  it('is well-formed XML even with markup and control characters in names and messages', () => {
    expect(XMLValidator.validate(xml)).toBe(true);
  });

  it('has one testsuite per device and one testcase per check, with counts that match', () => {
    const suites = doc.testsuites.testsuite as { name: string; tests: string; failures: string; errors: string; skipped: string; testcase: Record<string, unknown>[] }[];
    expect(suites.map((s) => s.name)).toEqual(['cam1', 'cam2 <&>', 'cam3']);
    for (const s of suites) {
      expect(Number(s.tests)).toBe(s.testcase.length);
      expect(Number(s.failures)).toBe(s.testcase.filter((c) => 'failure' in c).length);
      expect(Number(s.errors)).toBe(s.testcase.filter((c) => 'error' in c).length);
      expect(Number(s.skipped)).toBe(s.testcase.filter((c) => 'skipped' in c).length);
    }
    expect(suites.map((s) => [s.tests, s.failures, s.errors, s.skipped])).toEqual([['4', '0', '0', '1'], ['2', '1', '0', '1'], ['1', '0', '1', '0']]);
    expect(doc.testsuites.tests).toBe('7');
    expect(doc.testsuites.failures).toBe('1');
  });

  it('reports a simulated inference as skipped with a "simulated:" message, never as a pass', () => {
    const c = doc.testsuites.testsuite[0].testcase[3];
    expect(c.name).toBe('models.inference');
    expect(c.classname).toBe('cam1.model-load');
    expect(c.skipped.message).toBe('simulated: simulated board: network not run');
  });

  it('carries the failure reason and details', () => {
    const c = doc.testsuites.testsuite[1].testcase[0];
    expect(c.failure.message).toBe('lib/x.py: 3 bytes on the board, 4 in the image');
    expect(c.failure['#text']).toContain('ctrl  char');
    expect(c.time).toBe('0.013');
  });
});

describe('console summary', () => {
  it('prints per device and check with durations, and no escape codes when colour is off', () => {
    const text = formatConsole(run, { colour: false });
    expect(text).not.toMatch(/\x1b\[/);
    expect(text).toContain('    SIM  models.inference      13 ms  simulated board: network not run');
    expect(text).toContain('    FAIL listing               13 ms  lib/x.py: 3 bytes on the board, 4 in the image');
    expect(text).toContain('  ERROR device cam3 is leased by PID 1');
    expect(text.trimEnd().split('\n').pop()).toMatch(/^3 devices, 1 with errors: 3 passed, 1 failed, 1 skipped, 1 simulated in .* \(exit 1\)$/);
    expect(formatConsole(run, { colour: true })).toMatch(/\x1b\[31mFAIL\x1b\[39m/);
  });

  it('says a flash failed rather than that the board already held the image', () => {
    const base = device('cam4', []);
    const s = { ...base.scenarios[0]!, flash: { written: false, durationMs: 900, mode: 'auto' as const }, error: { message: 'cam4: link closed while waiting (transfer)', exitCode: 3, phase: 'flash transfer' } };
    const text = formatConsole(makeRunResult([{ ...base, scenarios: [s] }], new Date()), { colour: false });
    expect(text).toContain('flash failed');
    expect(text).not.toContain('already held');
    expect(text).toContain('ERR  flash transfer: cam4: link closed while waiting (transfer)');
  });

  it('uses colour only on a TTY and never with NO_COLOR', () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColour({ isTTY: true }, { FORCE_COLOR: '0' })).toBe(false);
  });
});

describe('JSON report', () => {
  it('round-trips the run with a version', () => {
    const back = JSON.parse(toJsonReport(run));
    expect(back.hil.report).toBe(1);
    expect(back.counts).toEqual(run.counts);
    expect(back.devices[1].scenarios[0].checks[0].details[0]).toBe('lib/x.py: 3 bytes on the board, 4 in the image');
  });
});

describe('a status hil does not know (defence behind the validation of custom results)', () => {
  const odd = makeRunResult([device('cam9', [{ name: 'mine', status: 'fail' as CheckResult['status'], durationMs: 3, details: [] }])], new Date('2026-11-25T08:00:00.000Z'));
  it('counts as an error (exit 3), never as a pass', () => {
    expect(odd.counts).toMatchObject({ passed: 0, error: 1, total: 1 });
    expect(odd.exitCode).toBe(3);
  });
  it('prints ERR on the console, never "undefined"', () => {
    const text = formatConsole(odd, { colour: false });
    expect(text).toMatch(/ERR {2}mine/);
    expect(text).not.toMatch(/undefined/);
  });
  it('is a JUnit <error> naming the status, without a crash', () => {
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(toJUnit(odd));
    expect(doc.testsuites.errors).toBe('1');
    expect(doc.testsuites.testsuite.testcase.error.message).toBe('unknown status "fail"');
  });
});
