/**
 * The fault matrix engine: for each phase of the protocol and each repeat, start a fresh simulated
 * board, put the fault-injecting link in front of it with ONE fault rule placed in that phase, run
 * a trial (`hil flash` in flashMatrix.ts, `hil run` in runMatrix.ts) and classify how it ended.
 * Nothing here trusts hil's own verdict: a trial judges the board by reading the sim's partition
 * file itself. An outer watchdog turns a run that outlives it into a HANG (and aborts the trial).
 *
 * Actions rotate through the list per repeat (shifted by phase), so 5 repeats put every action in
 * every phase; the seed drives the proxy's random choices (which bits are flipped).
 */
import { FaultProxy } from './faultProxy.js';
import type { Action, FaultRule, Trigger } from './rule.js';
import { seededRandom } from './rule.js';
import type { BoardProfile } from '../profile/profile.js';
import { startSim } from '../sim/index.js';
import { startSer2net } from '../transport/rfc2217/ser2net.js';

export interface MatrixPhase {
  name: string;
  when: Trigger;
  /** The fault hits every connection, retries included (a fault hil cannot get past: exit 3). */
  everyConnection?: boolean;
}

export type OutcomeKind =
  /** Ended with the right verdict (after hil's own retries): pass for a good image, the expected failure for a bad one. */
  | 'passed'
  /** Exit 3 naming the phase where the link failed. */
  | 'infra'
  /** Any other error, or exit 3 without a phase. */
  | 'other-error'
  /** A link fault reported as a finding about the image (exit 1 for a good image, or the wrong check failing). */
  | 'wrong-verdict'
  /** Reported success (or a verified hash) the board's partition does not bear out. */
  | 'false-pass'
  /** Still running when the watchdog fired. */
  | 'hang';

export interface RunOutcome {
  phase: string;
  action: string;
  /** Which input the trial used (e.g. `good image`, `misaligned image`). */
  variant?: string;
  result: OutcomeKind;
  errorPhase?: string;
  message?: string;
  /** Whether the fault rule fired at all (a run whose fault never fired tested nothing). */
  fired: boolean;
  ms: number;
}

export interface MatrixCell {
  phase: string;
  runs: number;
  /** Runs in which the fault actually fired. */
  fired: number;
  passed: number;
  infra: number;
  otherErrors: number;
  wrongVerdicts: number;
  falsePasses: number;
  hangs: number;
  worstMs: number;
}

export const ACTIONS: readonly Action[] = [
  { kind: 'drop' },
  { kind: 'corrupt', count: 3 },
  { kind: 'stall', ms: 4000 },
  { kind: 'duplicate', count: 4 },
  { kind: 'truncate', count: 16 },
];

/** What every matrix (flash, run) takes: board profile, repeats per cell, phases to run. */
export interface MatrixOptions {
  /** Board profile name of the simulated board (default openmv-h7). */
  profile?: string;
  repeats: number;
  seed?: number;
  watchdogMs?: number;
  phases?: string[];
  /** The command that is `hil` (default: node bin/hil.js of this checkout, which runs dist/). */
  hil?: string[];
  log?: (line: string) => void;
  /**
   * What the proxy relays to: `tcp` (default) the sim's TCP link, hil on socket://; `rfc2217` the
   * sim's pty exported by ser2net (harness/transport/rfc2217/ser2net.ts), hil on rfc2217://.
   */
  link?: 'tcp' | 'rfc2217';
}

export interface TrialContext {
  phase: MatrixPhase;
  action: Action;
  repeat: number;
  /** What hil connects to: the proxy, in front of the sim. */
  connection: string;
  /** The sim's partition file (read it to judge the board). */
  romfsFile: string;
  /** Fires when the watchdog gives up on the trial: stop (kill a child process). */
  signal: AbortSignal;
}

export type TrialVerdict = Omit<RunOutcome, 'phase' | 'action' | 'ms' | 'fired'>;

export interface MatrixEngineOptions {
  profile: BoardProfile;
  phases: MatrixPhase[];
  repeats: number;
  seed?: number;
  /** Watchdog per run (ms); a run still going then is a hang. */
  watchdogMs?: number;
  log?: (line: string) => void;
  link?: 'tcp' | 'rfc2217';
  trial: (ctx: TrialContext) => Promise<TrialVerdict>;
}

export async function runMatrix(opts: MatrixEngineOptions): Promise<{ cells: MatrixCell[]; outcomes: RunOutcome[] }> {
  const rand = seededRandom(opts.seed ?? 1);
  const outcomes: RunOutcome[] = [];
  const cells: MatrixCell[] = [];
  for (const [pi, phase] of opts.phases.entries()) {
    const cell: MatrixCell = { phase: phase.name, runs: 0, fired: 0, passed: 0, infra: 0, otherErrors: 0, wrongVerdicts: 0, falsePasses: 0, hangs: 0, worstMs: 0 };
    for (let i = 0; i < opts.repeats; i++) {
      const action = ACTIONS[(i + pi) % ACTIONS.length]!;
      const rule: FaultRule = { when: phase.when, do: action, everyConnection: phase.everyConnection ?? false };
      const sim = await startSim({ profile: opts.profile, link: opts.link === 'rfc2217' ? 'pty' : 'tcp' });
      const s2n = opts.link === 'rfc2217' ? await startSer2net({ device: sim.connection }) : null;
      const proxy = await FaultProxy.start({ upstream: s2n ? `socket://127.0.0.1:${s2n.port}` : sim.connection, rules: [rule], seed: Math.floor(rand() * 2 ** 31) });
      const connection = s2n ? proxy.connection.replace(/^socket:/, 'rfc2217:') : proxy.connection;
      const abort = new AbortController();
      const t0 = Date.now();
      let timer: NodeJS.Timeout | undefined;
      const watchdog = new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), opts.watchdogMs ?? 90_000)));
      const work = opts
        .trial({ phase, action, repeat: i, connection, romfsFile: sim.romfsFile, signal: abort.signal })
        .catch((e: unknown): TrialVerdict => ({ result: 'other-error', message: `trial crashed: ${String((e as Error)?.message ?? e).split('\n')[0]}` }));
      const r = await Promise.race([work, watchdog]);
      clearTimeout(timer);
      let out: RunOutcome;
      if (r === 'hang') {
        abort.abort();
        out = { phase: phase.name, action: action.kind, result: 'hang', fired: false, ms: Date.now() - t0 };
        await Promise.race([work, new Promise((res) => setTimeout(res, 5000))]);
      } else {
        out = { phase: phase.name, action: action.kind, ...r, fired: false, ms: Date.now() - t0 };
      }
      out.fired = proxy.stats.fired > 0;
      await proxy.close();
      await s2n?.stop();
      await sim.stop();
      outcomes.push(out);
      cell.runs++;
      if (out.fired) cell.fired++;
      cell.worstMs = Math.max(cell.worstMs, out.ms);
      if (out.result === 'passed') cell.passed++;
      else if (out.result === 'infra') cell.infra++;
      else if (out.result === 'false-pass') cell.falsePasses++;
      else if (out.result === 'wrong-verdict') cell.wrongVerdicts++;
      else if (out.result === 'hang') cell.hangs++;
      else cell.otherErrors++;
      opts.log?.(
        `${phase.name} #${i + 1} ${action.kind}${out.variant ? ` (${out.variant})` : ''}${out.fired ? '' : ' [fault never fired]'}: ${out.result}${out.errorPhase ? ` (phase ${out.errorPhase})` : ''} ${out.ms} ms${out.message ? ` — ${out.message}` : ''}`,
      );
    }
    cells.push(cell);
  }
  return { cells, outcomes };
}

export function matrixTable(cells: MatrixCell[]): string {
  const rows = [
    '| phase | runs | fault fired | passed (after retry) | infra errors (exit 3) | other errors | wrong verdicts | false passes | hangs | worst time |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const c of cells) {
    rows.push(`| ${c.phase} | ${c.runs} | ${c.fired} | ${c.passed} | ${c.infra} | ${c.otherErrors} | ${c.wrongVerdicts} | ${c.falsePasses} | ${c.hangs} | ${(c.worstMs / 1000).toFixed(1)} s |`);
  }
  return rows.join('\n');
}

export type MatrixTotals = Omit<MatrixCell, 'phase'>;

export function matrixTotals(cells: MatrixCell[]): MatrixTotals {
  const t: MatrixTotals = { runs: 0, fired: 0, passed: 0, infra: 0, otherErrors: 0, wrongVerdicts: 0, falsePasses: 0, hangs: 0, worstMs: 0 };
  for (const c of cells) {
    t.runs += c.runs; t.fired += c.fired; t.passed += c.passed; t.infra += c.infra; t.otherErrors += c.otherErrors;
    t.wrongVerdicts += c.wrongVerdicts; t.falsePasses += c.falsePasses; t.hangs += c.hangs;
    t.worstMs = Math.max(t.worstMs, c.worstMs);
  }
  return t;
}
