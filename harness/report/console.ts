/**
 * The console summary: per device, per scenario, one line per check with its status and duration,
 * the reason for anything not passed and its details for failures; then the totals.
 * Simulated and skipped checks are labelled as such, never as passes.
 */
import type { CheckResult, CheckStatus, RunResult } from '../scenario/result.js';
import { paint } from './colour.js';
import { visibleControls as v } from './visible.js';

const LABEL: Record<CheckStatus, string> = {
  passed: 'PASS',
  failed: 'FAIL',
  skipped: 'SKIP',
  simulated: 'SIM ',
  error: 'ERR ',
};

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

export interface ConsoleOptions {
  colour: boolean;
  /** Detail lines shown per failed check (default 12). */
  maxDetails?: number;
  /** `-q`: only errors (device, scenario, failed or errored checks, one line each) and the summary line. */
  quiet?: boolean;
  /** The check lines were already shown as they finished (a terminal): leave them out here. */
  omitChecks?: boolean;
}

export function formatCheckLine(c: CheckResult, colour: boolean, width = 18): string {
  const p = paint(colour);
  const tint = c.status === 'passed' ? p.green : c.status === 'simulated' ? p.cyan : c.status === 'skipped' ? p.yellow : p.red;
  const reason = c.reason ? `  ${v(String(c.reason))}` : '';
  // A status hil does not know (results are validated where they are made) shows as ERR, never
  // as "undefined".
  const label = LABEL[c.status] ?? LABEL.error;
  const ms = typeof c.durationMs === 'number' && Number.isFinite(c.durationMs) ? formatMs(c.durationMs) : '?';
  return `    ${tint(label)} ${String(c.name).padEnd(width)} ${p.dim(ms.padStart(8))}${reason}`;
}

export function formatConsole(run: RunResult, opts: ConsoleOptions): string {
  const p = paint(opts.colour);
  const maxDetails = opts.maxDetails ?? 12;
  const out: string[] = [];
  for (const d of run.devices) {
    if (opts.quiet) {
      if (d.error) out.push(`${d.device}: ${p.red('ERROR')} ${v(d.error.message)}`);
      for (const s of d.scenarios) {
        if (s.error) out.push(`${d.device} ${s.scenario}: ${p.red('ERR')} ${s.error.phase ?? 'setup'}: ${v(s.error.message)}`);
        for (const c of s.checks) if (c.status === 'failed' || c.status === 'error' || !(c.status in LABEL)) out.push(`${d.device} ${s.scenario}:${formatCheckLine(c, opts.colour).replace(/^ +/, ' ')}`);
      }
      continue;
    }
    out.push(`${p.bold(d.device)} ${p.dim(`(${d.connection}, profile ${d.profile}${d.simulated ? ', simulated board' : ''})`)} ${p.dim(formatMs(d.durationMs))}`);
    if (d.error) out.push(`  ${p.red('ERROR')} ${v(d.error.message)}`);
    for (const s of d.scenarios) {
      const flashFailed = s.error?.phase?.startsWith('flash') ?? false;
      const flash = s.flash
        ? s.flash.mode === 'never' ? 'not flashed'
        : s.flash.written ? `flashed (${s.flash.strategy}, ${formatMs(s.flash.durationMs)})`
        : flashFailed ? 'flash failed'
        : 'board already held the image'
        : '';
      out.push(`  ${s.scenario}${s.image ? p.dim(`  image ${s.image.bytes} bytes sha256 ${s.image.sha256.slice(0, 12)}…`) : ''}${flash ? p.dim(`; ${flash}`) : ''}`);
      if (s.error) out.push(`    ${p.red('ERR ')} ${s.error.phase ?? 'setup'}: ${v(s.error.message)}`);
      for (const c of opts.omitChecks ? [] : s.checks) {
        out.push(formatCheckLine(c, opts.colour));
        if (c.status !== 'passed' && c.status !== 'skipped' && c.status !== 'simulated') {
          const details = Array.isArray(c.details) ? c.details : [];
          const lines = details.slice(0, maxDetails);
          for (const l of lines) out.push(`         ${p.dim('|')} ${v(String(l))}`);
          if (details.length > maxDetails) out.push(`         ${p.dim('|')} … ${details.length - maxDetails} more lines (see --json)`);
        }
      }
    }
  }
  const c = run.counts;
  const parts = [
    `${c.passed} passed`,
    c.failed ? p.red(`${c.failed} failed`) : '0 failed',
    `${c.skipped} skipped`,
    `${c.simulated} simulated`,
    ...(c.error ? [p.red(`${c.error} errors`)] : []),
  ];
  const devErr = run.devices.filter((d) => d.error).length;
  out.push(`${run.devices.length} device${run.devices.length === 1 ? '' : 's'}${devErr ? `, ${p.red(`${devErr} with errors`)}` : ''}: ${parts.join(', ')} in ${formatMs(run.durationMs)} (exit ${run.exitCode})`);
  return out.join('\n') + '\n';
}
