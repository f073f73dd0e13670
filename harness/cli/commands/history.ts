/**
 * `hil history [--device D] [--scenario S] [--since 7d] [--json]`: recorded runs and outcomes.
 * `hil history regressions`: per (device, scenario, check): new failures, fixed, still failing,
 *   against the previous run that ran the check, with what changed between them.
 * `hil history flaky [--window 14d]`: checks that both passed and failed with the same image,
 *   firmware and board; devices whose infrastructure errors are rising, apart.
 * Where: --history PATH|postgres://..., else HIL_HISTORY, else $XDG_STATE_HOME/hil/history.sqlite.
 * Exit codes: 0 answered (whatever the answer), 2 bad option, 3 the history cannot be read.
 */
import { existsSync } from 'node:fs';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { InfraError, UsageError, oneLine } from '../../errors.js';
import { historyFlag, openHistory, resolveHistoryLocation, describeLocation, type HistoryStore, type ResultRow, type RunRow } from '../../history/index.js';
import { describeChanges, findFlaky, findRegressions, type FlakyReport, type RegressionEntry } from '../../history/queries.js';
import { parseDuration, parseSince } from '../../history/since.js';
import { checkNotEmpty } from '../validate.js';

interface CommonArgs {
  history?: unknown;
  device?: string;
  scenario?: string;
  json: boolean;
}
interface ListArgs extends CommonArgs {
  since?: string;
  limit: number;
}
interface RegressionArgs extends CommonArgs {
  runs: number;
}
interface FlakyArgs extends CommonArgs {
  window: string;
}

const STATUS: Record<string, string> = { passed: 'PASS', failed: 'FAIL', skipped: 'SKIP', simulated: 'SIM', error: 'ERR' };

function common<T>(y: Argv<T>): Argv<T> {
  return y
    .option('history', { type: 'string', describe: 'history database: a SQLite file or postgres://user:pass@host/db[?schema=S] (default: $HIL_HISTORY, else $XDG_STATE_HOME/hil/history.sqlite)' })
    .option('device', { alias: 'd', type: 'string', describe: 'only this device' })
    .option('scenario', { alias: 's', type: 'string', describe: 'only this scenario' })
    .option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as unknown as Argv<T>;
}

/** Opens the history for reading; a SQLite file that does not exist yet is "nothing recorded". */
async function open(args: CommonArgs): Promise<HistoryStore | null> {
  checkNotEmpty('--device', args.device);
  checkNotEmpty('--scenario', args.scenario);
  const h = historyFlag(args.history);
  if (typeof h === 'string') throw new UsageError(h);
  if (h.off) throw new UsageError('--no-history: nothing to read (name a history with --history)');
  const loc = resolveHistoryLocation(h);
  if (loc.kind === 'off') throw new UsageError('HIL_HISTORY=off: nothing to read (name a history with --history)');
  if (loc.kind === 'sqlite' && !existsSync(loc.file)) return null;
  try {
    return await openHistory(loc, { onWarning: (w) => process.stderr.write(`hil: warning: ${w}\n`) });
  } catch (e) {
    throw new InfraError(`history ${describeLocation(loc)} cannot be read: ${oneLine(e)}`, 'history');
  }
}

function nothing(args: CommonArgs, json: unknown): void {
  if (args.json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  else process.stdout.write(`No history recorded yet (${describeLocation(resolveHistoryLocation(historyFlag(args.history) as { flag?: string }))}).\n`);
}

const when = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');

function resultLine(r: ResultRow): string {
  const cls = r.failureClass ? `${r.failureClass}: ` : '';
  return `${STATUS[r.status] ?? r.status.toUpperCase()} ${r.check}${r.reason && r.status !== 'passed' ? ` (${cls}${r.reason})` : ''}`;
}

function formatRuns(runs: RunRow[], results: ResultRow[]): string {
  const lines: string[] = [];
  for (const run of runs) {
    const c = run.counts;
    const ci = run.ci ? `  ${run.ci.system} ${run.ci.job}` : '';
    const kind = run.kind === 'health' ? '  (hil device health)' : '';
    lines.push(`run ${run.id}${kind}  ${when(run.startedAt)}  exit ${run.exitCode}  ${(run.durationMs / 1000).toFixed(1)} s  ${c.passed} passed, ${c.failed} failed, ${c.error} errors, ${c.skipped} skipped, ${c.simulated} simulated  host ${run.host}  hil ${run.hilVersion}${ci}`);
    const mine = results.filter((r) => r.runId === run.id);
    const groups = new Map<string, ResultRow[]>();
    for (const r of mine) {
      const k = `${r.device}\0${r.scenario}`;
      groups.set(k, [...(groups.get(k) ?? []), r]);
    }
    for (const g of groups.values()) {
      const f = g.filter((r) => r.final);
      const head = g[0]!;
      const board = [head.profile, head.firmwareVersion, head.imageSha256 ? `image ${head.imageSha256.slice(0, 12)}` : null].filter(Boolean).join(', ');
      const att = f[0] && f[0].attempt > 1 ? `  attempt ${f[0].attempt}` : '';
      lines.push(`  ${head.device}  ${head.scenario}  (${board})${att}`);
      for (const r of g.filter((x) => !x.final && x.status !== 'passed')) {
        lines.push(`      attempt ${r.attempt}: ${resultLine(r)}${r.transcript ? `  transcript ${r.transcript}` : ''}`);
      }
      for (const r of f) lines.push(`    ${resultLine(r)}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : 'No runs match.\n';
}

function formatRegressions(list: RegressionEntry[], runs: number): string {
  const part = (kind: RegressionEntry['kind'], title: string) => {
    const xs = list.filter((x) => x.kind === kind);
    if (xs.length === 0) return [];
    return [`${title} (${xs.length}):`, ...xs.map((x) => {
      const what = `  ${x.device}  ${x.scenario}  ${x.check}: ${STATUS[x.latest.status]}`;
      const since = x.kind === 'still-failing' && x.failingSince ? ` since run ${x.failingSince.runId} (${when(x.failingSince.startedAt)}, ${x.failingSince.runs} runs)` : '';
      const vs = x.previous ? ` in run ${x.latest.runId}, was ${STATUS[x.previous.status]} in run ${x.previous.runId}` : ` in run ${x.latest.runId} (first run of this check)`;
      const why = x.latest.reason && x.kind !== 'fixed' ? `\n      ${x.latest.failureClass ? `${x.latest.failureClass}: ` : ''}${x.latest.reason}` : '';
      const changed = x.previous ? `\n      changed: ${describeChanges(x.changed)}` : '';
      return `${what}${since}${vs}${why}${changed}`;
    })];
  };
  const n = (k: RegressionEntry['kind']) => list.filter((x) => x.kind === k).length;
  const lines = [...part('new-failure', 'New failures'), ...part('still-failing', 'Still failing'), ...part('fixed', 'Fixed')];
  lines.push(`${n('new-failure')} new failures, ${n('still-failing')} still failing, ${n('fixed')} fixed (latest result of each check against the previous run that ran it; last ${runs} runs)`);
  return `${lines.join('\n')}\n`;
}

function formatFlaky(r: FlakyReport, window: string): string {
  const lines: string[] = [];
  const tests = r.flaky.filter((f) => !f.deviceInfraRising);
  const onBad = r.flaky.filter((f) => f.deviceInfraRising);
  const entry = (f: FlakyReport['flaky'][number]) => {
    const last = f.failures[0];
    return [
      `  ${f.device}  ${f.scenario}  ${f.check}: ${f.failed} failed, ${f.passed} passed  (image ${f.imageSha256?.slice(0, 12) ?? '?'}, firmware ${f.firmware ?? '?'}, board ${f.boardId ?? '?'})`,
      ...f.reasons.slice(0, 3).map((x) => `      ${x}`),
      ...(last ? [`      last failed: run ${last.runId} (${when(last.startedAt)}) attempt ${last.attempt}${last.transcript ? `, transcript ${last.transcript}` : ''}`] : []),
    ];
  };
  lines.push(`Flaky checks (${tests.length}): passed and failed with the same image, firmware and board, ${when(r.from)} .. ${when(r.to)}`);
  for (const f of tests) lines.push(...entry(f));
  const rising = r.devices.filter((d) => d.rising);
  lines.push(`Devices with rising infrastructure errors (${rising.length}): runs with link/board errors, first half -> second half of the window`);
  for (const d of rising) {
    lines.push(`  ${d.device}: ${d.earlier}/${d.earlierRuns} -> ${d.later}/${d.laterRuns} runs`, ...d.reasons.map((x) => `      ${x}`));
    for (const f of onBad.filter((x) => x.device === d.device)) lines.push(`    (not counted as flaky: may be the board)`, ...entry(f).map((l) => `  ${l}`));
  }
  const steady = r.devices.filter((d) => !d.rising);
  if (steady.length) lines.push(`Other devices with infrastructure errors: ${steady.map((d) => `${d.device} ${d.earlier + d.later}`).join(', ')}`);
  lines.push(`(window ${window})`);
  return `${lines.join('\n')}\n`;
}

const listCommand = {
  command: '$0',
  describe: 'Recorded runs and their outcomes, newest first',
  builder: (y: Argv) =>
    common(y)
      .option('since', { type: 'string', describe: 'only runs since: a duration (7d, 12h, 2w) or a date (2026-01-31)' })
      .option('limit', { type: 'number', default: 20, describe: 'at most this many runs' }) as unknown as Argv<ListArgs>,
  handler: async (args: ArgumentsCamelCase<ListArgs>) => {
    if (!Number.isInteger(args.limit) || args.limit < 1) throw new UsageError(`--limit must be a whole number >= 1 (got ${args.limit})`);
    const since = args.since !== undefined ? parseSince('--since', args.since) : undefined;
    const store = await open(args);
    if (!store) return nothing(args, { runs: [] });
    try {
      const runs = await store.recentRuns({ limit: args.limit, device: args.device, scenario: args.scenario, since });
      const results = await store.resultsForRuns(runs.map((r) => r.id), { device: args.device, scenario: args.scenario });
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ history: store.location, runs: runs.map((r) => ({ ...r, results: results.filter((x) => x.runId === r.id) })) }, null, 2)}\n`);
      } else process.stdout.write(formatRuns(runs, results));
    } finally {
      await store.close();
    }
  },
};

const regressionsCommand = {
  command: 'regressions',
  describe: 'New failures, fixed and still failing checks, with what changed (image, firmware, hil)',
  builder: (y: Argv) =>
    common(y).option('runs', { type: 'number', default: 30, describe: 'look back over this many runs' }) as unknown as Argv<RegressionArgs>,
  handler: async (args: ArgumentsCamelCase<RegressionArgs>) => {
    if (!Number.isInteger(args.runs) || args.runs < 2) throw new UsageError(`--runs must be a whole number >= 2 (got ${args.runs})`);
    const store = await open(args);
    if (!store) return nothing(args, { regressions: [] });
    try {
      const runs = await store.recentRuns({ limit: args.runs, device: args.device, scenario: args.scenario });
      const rows = await store.resultsForRuns(runs.map((r) => r.id), { device: args.device, scenario: args.scenario, finalOnly: true });
      const list = findRegressions(rows);
      if (args.json) process.stdout.write(`${JSON.stringify({ history: store.location, regressions: list }, null, 2)}\n`);
      else process.stdout.write(formatRegressions(list, runs.length));
    } finally {
      await store.close();
    }
  },
};

const flakyCommand = {
  command: 'flaky',
  describe: 'Checks that passed and failed with the same image, firmware and board; devices with rising infra errors apart',
  builder: (y: Argv) =>
    common(y).option('window', { type: 'string', default: '14d', describe: 'how far back: a duration (14d, 2w, 36h)' }) as unknown as Argv<FlakyArgs>,
  handler: async (args: ArgumentsCamelCase<FlakyArgs>) => {
    const now = new Date();
    const from = new Date(now.getTime() - parseDuration('--window', args.window));
    const store = await open(args);
    if (!store) return nothing(args, { flaky: [], devices: [] });
    try {
      const rows = await store.results({ since: from, device: args.device, scenario: args.scenario });
      const report = findFlaky(rows, { from, to: now });
      if (args.json) process.stdout.write(`${JSON.stringify({ history: store.location, ...report }, null, 2)}\n`);
      else process.stdout.write(formatFlaky(report, args.window));
    } finally {
      await store.close();
    }
  },
};

export const historyCommand: CommandModule<object, CommonArgs> = {
  command: 'history',
  describe: 'Ask the run history: runs and outcomes, regressions, flaky checks',
  builder: (y: Argv) =>
    y
      .command(listCommand as unknown as CommandModule)
      .command(regressionsCommand as unknown as CommandModule)
      .command(flakyCommand as unknown as CommandModule)
      .epilog('Exit codes: 0 answered (whatever the answer), 2 bad option, 3 the history cannot be read.') as unknown as Argv<CommonArgs>,
  handler: () => undefined,
};
