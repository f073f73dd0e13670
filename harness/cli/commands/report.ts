/**
 * `hil report --html DIR [--history PATH|URL] [--runs N] [--window N] [--title T]`: the nightly
 * report from the run history, as one self-contained page DIR/index.html (uPlot inline; opens
 * offline from file://). The grid shows the last --runs runs; flaky checks and trends use the
 * last --window runs.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { resolveHistoryLocation } from '../../history/index.js';
import { generateReport } from '../../report/html/generate.js';
import { DEFAULT_GRID_RUNS, DEFAULT_WINDOW_RUNS } from '../../report/html/query.js';
import { hilVersion } from '../../history/provenance.js';
import { checkOutputPath } from '../validate.js';

interface ReportArgs {
  html: string;
  history?: string;
  runs: number;
  window: number;
  title?: string;
}

export const REPORT_EPILOG = `The page: what changed since the previous run (new failures, fixed, still failing, devices
gone bad), a grid of devices x checks x the last N runs (each cell links to its transcript; hover
for the reason and earlier attempts), device health, flaky checks with their evidence, and trends
(flash throughput, check durations, first-inference latency per model).

Exit codes:
  0  report written
  2  bad arguments, no history at the path given, the history is off
  3  the history could not be read (PostgreSQL not answering, ...)`;

function checkCount(flag: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`${flag} must be a whole number of runs above 0 (got ${v})`);
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report',
  describe: 'Write the nightly HTML report (one self-contained page) from the run history',
  builder: (y: Argv) =>
    y
      .option('html', { type: 'string', demandOption: true, describe: 'folder to write the report to (DIR/index.html)' })
      .option('history', { type: 'string', describe: 'history to read: a SQLite file or postgres://... (default: $HIL_HISTORY, else $XDG_STATE_HOME/hil/history.sqlite)' })
      .option('runs', { type: 'number', default: DEFAULT_GRID_RUNS, describe: 'runs shown in the grid (the newest)' })
      .option('window', { type: 'number', default: DEFAULT_WINDOW_RUNS, describe: 'runs read for flaky checks and trends' })
      .option('title', { type: 'string', describe: 'page title (default "hil nightly report")' })
      .epilog(REPORT_EPILOG) as unknown as Argv<ReportArgs>,
  handler: async (args: ArgumentsCamelCase<ReportArgs>) => {
    checkOutputPath('--html', args.html, 'folder');
    checkCount('--runs', args.runs);
    checkCount('--window', args.window);
    const location = resolveHistoryLocation({ flag: args.history });
    const { file, data } = await generateReport(location, resolve(args.html), {
      gridRuns: args.runs, windowRuns: args.window, title: args.title, hilVersion: hilVersion(),
      onWarning: (l) => process.stderr.write(`hil: ${l}\n`),
    });
    const c = data.changes;
    process.stderr.write(`hil: report of ${data.runs.length} run${data.runs.length === 1 ? '' : 's'}, ${data.devices.length} devices: ${c.newFailures.length} new failures, ${c.fixed.length} fixed, ${c.stillFailing.length} still failing, ${c.devicesGoneBad.length} devices gone bad\n`);
    process.stdout.write(`${file}\n`);
  },
};
