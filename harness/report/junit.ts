/**
 * `--junit FILE`: JUnit XML as CI servers read it: one <testsuite> per device, one <testcase> per
 * check (classname = device.scenario). Failed checks carry <failure>, infrastructure errors
 * <error>, skipped checks <skipped message="reason"/>. Simulated checks are reported as SKIPPED
 * with a message starting "simulated:" so no CI server ever counts a simulated inference as a pass.
 * A device or scenario that stopped before its checks gets one testcase `setup` with <error>.
 */
import { writeFile } from 'node:fs/promises';
import type { CheckResult, RunResult } from '../scenario/result.js';

export function xmlEscape(s: string): string {
  // Characters XML 1.0 forbids (control characters other than tab, LF, CR) are dropped.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

interface Case {
  name: string;
  classname: string;
  ms: number;
  kind: 'pass' | 'failure' | 'error' | 'skipped';
  message?: string;
  body?: string;
}

function caseOf(c: CheckResult, classname: string): Case {
  const body = Array.isArray(c.details) ? c.details.join('\n') : '';
  switch (c.status) {
    case 'passed': return { name: c.name, classname, ms: c.durationMs, kind: 'pass', body };
    case 'failed': return { name: c.name, classname, ms: c.durationMs, kind: 'failure', message: c.reason ?? 'failed', body };
    case 'error': return { name: c.name, classname, ms: c.durationMs, kind: 'error', message: c.reason ?? 'error', body };
    case 'skipped': return { name: c.name, classname, ms: c.durationMs, kind: 'skipped', message: c.reason ?? 'skipped', body };
    case 'simulated': return { name: c.name, classname, ms: c.durationMs, kind: 'skipped', message: `simulated: ${c.reason ?? 'ran on the simulated board'}`, body };
    // A status hil does not know (results are validated where they are made) is an error.
    default: return { name: String(c.name), classname, ms: Number.isFinite(c.durationMs) ? c.durationMs : 0, kind: 'error', message: `unknown status ${JSON.stringify(c.status)}${c.reason ? `: ${c.reason}` : ''}`, body };
  }
}

export function toJUnit(run: RunResult): string {
  const suites: string[] = [];
  let all = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const d of run.devices) {
    const cases: Case[] = [];
    if (d.error) cases.push({ name: 'setup', classname: d.device, ms: 0, kind: 'error', message: d.error.message });
    for (const s of d.scenarios) {
      const cls = `${d.device}.${s.scenario}`;
      if (s.error) cases.push({ name: `setup (${s.error.phase ?? 'scenario'})`, classname: cls, ms: 0, kind: 'error', message: s.error.message });
      for (const c of s.checks) cases.push(caseOf(c, cls));
    }
    const n = {
      tests: cases.length,
      failures: cases.filter((c) => c.kind === 'failure').length,
      errors: cases.filter((c) => c.kind === 'error').length,
      skipped: cases.filter((c) => c.kind === 'skipped').length,
    };
    all = { tests: all.tests + n.tests, failures: all.failures + n.failures, errors: all.errors + n.errors, skipped: all.skipped + n.skipped };
    const props = [
      ['connection', d.connection],
      ['profile', d.profile],
      ['simulated', String(d.simulated)],
      ...d.scenarios.flatMap((s) => (s.image ? [[`${s.scenario}.image.sha256`, s.image.sha256]] : [])),
    ];
    const lines = [
      `  <testsuite name="${xmlEscape(d.device)}" tests="${n.tests}" failures="${n.failures}" errors="${n.errors}" skipped="${n.skipped}" time="${secs(d.durationMs)}" timestamp="${run.startedAt.replace(/\.\d+Z$/, '')}">`,
      '    <properties>',
      ...props.map(([k, v]) => `      <property name="${xmlEscape(k!)}" value="${xmlEscape(v!)}"/>`),
      '    </properties>',
    ];
    for (const c of cases) {
      const open = `    <testcase name="${xmlEscape(c.name)}" classname="${xmlEscape(c.classname)}" time="${secs(c.ms)}"`;
      const out = c.body ? `      <system-out>${xmlEscape(c.body)}</system-out>` : '';
      if (c.kind === 'pass') {
        lines.push(out ? `${open}>\n${out}\n    </testcase>` : `${open}/>`);
        continue;
      }
      const tag = c.kind;
      const inner = c.kind === 'skipped' ? `      <skipped message="${xmlEscape(c.message ?? '')}"/>` : `      <${tag} message="${xmlEscape(c.message ?? '')}" type="${tag}">${xmlEscape(c.body ?? '')}</${tag}>`;
      lines.push(`${open}>\n${inner}${out && c.kind === 'skipped' ? `\n${out}` : ''}\n    </testcase>`);
    }
    lines.push('  </testsuite>');
    suites.push(lines.join('\n'));
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="hil run" tests="${all.tests}" failures="${all.failures}" errors="${all.errors}" skipped="${all.skipped}" time="${secs(run.durationMs)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

export async function writeJUnit(file: string, run: RunResult): Promise<void> {
  await writeFile(file, toJUnit(run));
}
