/**
 * `--junit FILE`: JUnit XML as CI servers read it: one <testsuite> per device, one <testcase> per
 * check (classname = device.scenario). Failed checks carry <failure>, infrastructure errors
 * <error>, skipped checks <skipped message="reason"/>. Simulated checks are reported as SKIPPED
 * with a message starting "simulated:" so no CI server ever counts a simulated inference as a pass.
 * A device or scenario that stopped before its checks gets one testcase `setup` with <error>.
 *
 * Each testcase has its own <properties> (first child, as Jenkins, GitLab and pytest read them):
 * `failure.class` (failed and error checks), `attempts`, `device`, `device.uniqueId`,
 * `device.machine`, `profile`, `firmware`, `image.sha256`, `transcript` (what is known).
 *
 * Retried attempts (a scenario run again after an infrastructure error, ScenarioResult.
 * previousAttempts) are kept the way Maven Surefire writes its reruns (surefire-test-report-3.0.xsd,
 * apache/maven-surefire maven-surefire-plugin/src/site/resources/xsd/; examples/rerun-failing-
 * tests.apt.vm): an earlier attempt in which the check did not pass is a <flakyFailure> or
 * <flakyError> when the check finally passed (or was skipped/simulated), and a <rerunFailure> or
 * <rerunError> when it finally failed or errored. Each has `message` and `type` attributes and a
 * <stackTrace> child, then <system-out> naming the attempt and its transcript. Order inside a
 * testcase follows the XSD's sequence: failure, rerunFailure, flakyFailure, skipped, error,
 * rerunError, flakyError, system-out. One deliberate difference: Surefire puts the FIRST failing
 * run in <failure>/<error>; hil puts its verdict there (the last attempt, the one the exit code
 * and the counts are about), and every earlier attempt in a rerun element.
 */
import { writeFile } from 'node:fs/promises';
import type { AttemptEvidence, CheckResult, DeviceRunResult, RunResult, ScenarioResult } from '../scenario/result.js';
import { defaultClass } from '../history/store.js';

export function xmlEscape(s: string): string {
  // Characters XML 1.0 forbids (control characters other than tab, LF, CR) are dropped.
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

/** An earlier attempt in which this check did not pass: one Surefire rerun/flaky element. */
interface Rerun {
  kind: 'failure' | 'error';
  message: string;
  type: string;
  trace: string;
  out: string;
}

interface Case {
  name: string;
  classname: string;
  ms: number;
  kind: 'pass' | 'failure' | 'error' | 'skipped';
  /** The `type` attribute of <failure>/<error>: the failure class when known. */
  type?: string;
  message?: string;
  body?: string;
  props: [string, string][];
  reruns: Rerun[];
}

/** What a board's firmware says it is, in one line (`micropython 1.27.0; <uname.version>`). */
export function firmwareOf(d: DeviceRunResult): string | undefined {
  const id = d.identity;
  if (!id) return undefined;
  const impl = [id.implementation.name, id.implementation.version].filter(Boolean).join(' ');
  const parts = [impl, id.uname?.version].filter((x): x is string => Boolean(x));
  return parts.length ? parts.join('; ') : undefined;
}

/** The properties every testcase of this device and scenario shares. */
function sharedProps(d: DeviceRunResult, s: ScenarioResult | undefined): [string, string][] {
  const props: [string, string][] = [['device', d.device]];
  if (d.identity?.uniqueId) props.push(['device.uniqueId', d.identity.uniqueId]);
  if (d.identity?.machine) props.push(['device.machine', d.identity.machine]);
  props.push(['profile', s?.profile ?? d.profile]);
  const fw = firmwareOf(d);
  if (fw) props.push(['firmware', fw]);
  if (s?.image) props.push(['image.sha256', s.image.sha256]);
  props.push(['attempts', String(s?.attempts ?? (s?.previousAttempts?.length ?? 0) + 1)]);
  const transcript = d.files?.find((f) => /transcript/.test(f));
  if (transcript) props.push(['transcript', transcript]);
  return props;
}

/** Earlier attempts of the scenario in which check `name` did not pass, oldest first. */
function rerunsOf(name: string, attempts: readonly AttemptEvidence[]): Rerun[] {
  const out: Rerun[] = [];
  for (const a of attempts) {
    const c = a.checks.find((k) => k.name === name);
    const where = `attempt ${a.attempt}${a.transcript ? ` (transcript ${a.transcript})` : ''}: ${a.reason}`;
    if (c) {
      if (c.status !== 'failed' && c.status !== 'error') continue;
      out.push({
        kind: c.status === 'failed' ? 'failure' : 'error',
        message: c.reason ?? c.status,
        type: c.failureClass ?? a.failureClass ?? defaultClass(c.status) ?? c.status,
        trace: [c.reason ?? c.status, ...(Array.isArray(c.details) ? c.details : [])].join('\n'),
        out: where,
      });
    } else {
      // The attempt stopped (on an infrastructure error) before this check gave a verdict.
      const msg = a.error?.message ?? a.reason;
      out.push({ kind: 'error', message: `attempt ${a.attempt} stopped before this check: ${msg}`, type: a.failureClass ?? 'error', trace: [msg, a.error?.phase ? `phase: ${a.error.phase}` : ''].filter(Boolean).join('\n'), out: where });
    }
  }
  return out;
}

function caseOf(c: CheckResult, classname: string, shared: [string, string][], attempts: readonly AttemptEvidence[]): Case {
  const body = Array.isArray(c.details) ? c.details.join('\n') : '';
  const props: [string, string][] = [...shared];
  // A result made without a class (an older producer, a custom check) gets the history's default.
  const cls = c.failureClass ?? defaultClass(c.status) ?? undefined;
  if ((c.status === 'failed' || c.status === 'error') && cls) props.unshift(['failure.class', cls]);
  const base = { name: c.name, classname, ms: c.durationMs, body, props, reruns: rerunsOf(c.name, attempts) };
  switch (c.status) {
    case 'passed': return { ...base, kind: 'pass' };
    case 'failed': return { ...base, kind: 'failure', type: cls ?? 'failure', message: c.reason ?? 'failed' };
    case 'error': return { ...base, kind: 'error', type: cls ?? 'error', message: c.reason ?? 'error' };
    case 'skipped': return { ...base, kind: 'skipped', message: c.reason ?? 'skipped' };
    case 'simulated': return { ...base, kind: 'skipped', message: `simulated: ${c.reason ?? 'ran on the simulated board'}` };
    // A status hil does not know (results are validated where they are made) is an error.
    default: return { ...base, name: String(c.name), ms: Number.isFinite(c.durationMs) ? c.durationMs : 0, kind: 'error', type: 'error', message: `unknown status ${JSON.stringify(c.status)}${c.reason ? `: ${c.reason}` : ''}` };
  }
}

function rerunXml(tag: string, r: Rerun): string {
  return [
    `      <${tag} message="${xmlEscape(r.message)}" type="${xmlEscape(r.type)}">`,
    `        <stackTrace>${xmlEscape(r.trace)}</stackTrace>`,
    `        <system-out>${xmlEscape(r.out)}</system-out>`,
    `      </${tag}>`,
  ].join('\n');
}

function caseXml(c: Case): string {
  const open = `    <testcase name="${xmlEscape(c.name)}" classname="${xmlEscape(c.classname)}" time="${secs(c.ms)}">`;
  const inner: string[] = [];
  if (c.props.length) {
    inner.push('      <properties>', ...c.props.map(([k, v]) => `        <property name="${xmlEscape(k)}" value="${xmlEscape(v)}"/>`), '      </properties>');
  }
  const final = c.kind === 'failure' || c.kind === 'error';
  const failures = c.reruns.filter((r) => r.kind === 'failure');
  const errors = c.reruns.filter((r) => r.kind === 'error');
  // The XSD's sequence: failure, rerunFailure*, flakyFailure*, skipped, error, rerunError*, flakyError*, system-out.
  if (c.kind === 'failure') inner.push(`      <failure message="${xmlEscape(c.message ?? '')}" type="${xmlEscape(c.type ?? 'failure')}">${xmlEscape(c.body ?? '')}</failure>`);
  for (const r of failures) inner.push(rerunXml(final ? 'rerunFailure' : 'flakyFailure', r));
  if (c.kind === 'skipped') inner.push(`      <skipped message="${xmlEscape(c.message ?? '')}"/>`);
  if (c.kind === 'error') inner.push(`      <error message="${xmlEscape(c.message ?? '')}" type="${xmlEscape(c.type ?? 'error')}">${xmlEscape(c.body ?? '')}</error>`);
  for (const r of errors) inner.push(rerunXml(final ? 'rerunError' : 'flakyError', r));
  if (c.body && (c.kind === 'pass' || c.kind === 'skipped')) inner.push(`      <system-out>${xmlEscape(c.body)}</system-out>`);
  return [open, ...inner, '    </testcase>'].join('\n');
}

export function toJUnit(run: RunResult): string {
  const suites: string[] = [];
  let all = { tests: 0, failures: 0, errors: 0, skipped: 0 };
  for (const d of run.devices) {
    const cases: Case[] = [];
    if (d.error) cases.push({ name: 'setup', classname: d.device, ms: 0, kind: 'error', type: 'error', message: d.error.message, props: sharedProps(d, undefined).filter(([k]) => k !== 'attempts'), reruns: [] });
    for (const s of d.scenarios) {
      const cls = `${d.device}.${s.scenario}`;
      const shared = sharedProps(d, s);
      const earlier = s.previousAttempts ?? [];
      if (s.error) {
        cases.push({ name: `setup (${s.error.phase ?? 'scenario'})`, classname: cls, ms: 0, kind: 'error', type: 'error', message: s.error.message, props: shared, reruns: earlier.map((a) => ({ kind: 'error' as const, message: a.error?.message ?? a.reason, type: a.failureClass ?? 'error', trace: a.reason, out: `attempt ${a.attempt}${a.transcript ? ` (transcript ${a.transcript})` : ''}: ${a.reason}` })) });
      }
      for (const c of s.checks) cases.push(caseOf(c, cls, shared, earlier));
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
      ...cases.map(caseXml),
      '  </testsuite>',
    ];
    suites.push(lines.join('\n'));
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="hil run" tests="${all.tests}" failures="${all.failures}" errors="${all.errors}" skipped="${all.skipped}" time="${secs(run.durationMs)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

export async function writeJUnit(file: string, run: RunResult): Promise<void> {
  await writeFile(file, toJUnit(run));
}
