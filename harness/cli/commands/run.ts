/**
 * `hil run <scenario...> [--device D | --bench FILE] [--image X] [--profile P] [--flash MODE]
 *  [--junit FILE] [--ctrf FILE] [--json FILE] [--out DIR] [--report DIR] [--lease-wait S] [--record-golden]`: the main job.
 * Without --device/--bench and with no default device in devices/bench.yaml, a simulated board is
 * started for the run (and the run says so).
 */
import { checkLeaseFlags, withLeaseFlags } from '../leaseFlags.js';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import { resolveTargets } from '../../bench/targets.js';
import { DEFAULT_BENCH_FILE } from '../../bench/inventory.js';
import { checkBenchKeys, checkNotEmpty, checkOutputPath, checkSerialIds } from '../validate.js';
import { runScenariosWithHealth } from '../../health/benchHealth.js';
import { openDeviceStates } from '../../health/historyStore.js';
import { DEFAULT_BAD_AFTER } from '../../health/state.js';
import type { BenchEvent } from '../../bench/runBench.js';
import { formatCheckLine, formatConsole } from '../../report/console.js';
import { useColour, paint } from '../../report/colour.js';
import { writeJUnit } from '../../report/junit.js';
import { writeJsonReport } from '../../report/json.js';
import { writeCtrf } from '../../report/ctrf.js';
import { refreshReportQuietly } from '../../report/html/generate.js';
import { hilVersion } from '../../history/provenance.js';
import type { FlashMode } from '../../scenario/definition.js';
import { scopeOf } from '../../lifecycle/scope.js';
import { historyFlag, recordRunQuietly, resolveHistoryLocation } from '../../history/index.js';

interface RunArgs {
  scenario: string[];
  device?: string;
  bench?: string;
  image?: string;
  profile?: string;
  flash?: string;
  junit?: string;
  ctrf?: string;
  report?: string;
  json?: string;
  out?: string;
  leaseWait: number;
  leases?: string;
  leaseTtl: number;
  quiet: boolean;
  /** --history PATH|URL; false for --no-history (a list when given twice: refused). */
  history?: unknown;
  badAfter?: number;
  recordGolden: boolean;
}

export const RUN_EPILOG = `Exit codes:
  0  every check passed (skipped and simulated checks are listed as such, they do not fail a run)
  1  a check failed (wins over 3 when both happen: a finding about the product)
  2  usage or configuration error (bad scenario, bench file, profile, image, a board its profile
     does not fit; nothing written)
  3  infrastructure error: lease not obtained (or lost: another runner holds the board now),
     link or board failed, after retries
  6  --bench: everything that ran passed, but a bench device is bad and was not run (1, 2, 3 win)

Check statuses: PASS, FAIL, SKIP (could not run here, with the reason, e.g. no ml module),
SIM (simulated board: placement and format checked, network not run; never a pass), ERR.
In --junit, SKIP and SIM are <skipped message="..."/> (SIM messages start with "simulated:");
each testcase carries properties (failure.class, attempts, device, device.uniqueId, firmware,
image.sha256) and earlier attempts as Surefire's flakyFailure/flakyError/rerunFailure/rerunError.
In --ctrf, SIM is status "other" and ERR "failed" (rawStatus says which).

With --bench, each device has a health state (ok, suspect, bad) kept in the history store: a bad
device is not run (reported with the reason and since when); a device that ends the run with an
infrastructure error goes through the recovery ladder (soft reset, machine.reset(), power cycle
when the bench file names its hub port) and is bad after --bad-after failed recoveries in a row.
See 'hil device --help'.

History: every run is recorded (all attempts, with provenance) in $XDG_STATE_HOME/hil/history.sqlite
(or --history PATH|postgres://..., or HIL_HISTORY; --no-history or HIL_HISTORY=off records
nothing). A history that cannot be written is one warning; it never changes the exit code.

Without --device or --bench, hil uses the 'default' device of devices/bench.yaml; if none is
configured it starts a simulated board (profile openmv-h7 unless --profile) and says so.`;

async function ensureParent(file: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <scenario..>',
  describe: 'Run scenarios (folders or names under scenarios/) on a board, a bench, or a simulated board',
  builder: (y: Argv) =>
    withLeaseFlags(y, { waitDefault: 60 })
      .positional('scenario', { type: 'string', array: true, demandOption: true, describe: 'scenario folder (scenarios/model-load) or name (model-load)' })
      .option('device', { alias: 'd', type: 'string', describe: 'device name in devices/bench.yaml, or a connection (/dev/ttyACM0, socket://host:port, qemu, sim, sim:PROFILE)' })
      .option('bench', { alias: 'b', type: 'string', describe: 'bench file: run on every device in it, in parallel, each under an exclusive lease' })
      .option('image', { alias: 'i', type: 'string', describe: "use this image instead of the scenario's: source folder, romfs_config.json or .img" })
      .option('profile', { alias: 'p', type: 'string', describe: 'board profile (name or YAML path); without it a real board\'s is chosen from what it reports; for the simulated board default openmv-h7' })
      .option('flash', { type: 'string', choices: ['auto', 'always', 'never'], describe: "override the scenario's flash mode (auto: only when the board does not hold the image)" })
      .option('junit', { type: 'string', describe: 'write JUnit XML here (one testsuite per device, one testcase per check)' })
      .option('ctrf', { type: 'string', describe: 'write a CTRF JSON report here (one test per check, retried attempts kept)' })
      .option('report', { type: 'string', describe: 'after the run is recorded, refresh the HTML report in this folder (DIR/index.html, as hil report --html DIR)' })
      .option('json', { type: 'string', describe: 'write the full results as JSON here' })
      .option('out', { alias: 'o', type: 'string', describe: 'write per-device byte transcripts and logs under DIR/<device>/' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'print only errors (one line each) and the summary line' })
      .option('history', { type: 'string', describe: 'history store: a SQLite file or postgres://user:pass@host/db[?schema=S] (default $HIL_HISTORY, else $XDG_STATE_HOME/hil/history.sqlite): every run is recorded there, and --bench keeps device states there; --no-history: neither' })
      .option('bad-after', { type: 'number', describe: `--bench: a device is bad after this many failed recoveries in a row (default ${DEFAULT_BAD_AFTER})` })
      .option('record-golden', { type: 'boolean', default: false, describe: "models check: write each model's outputs into the scenario's golden/<model>.json (one trusted real board) instead of comparing" })
      .epilog(RUN_EPILOG) as unknown as Argv<RunArgs>,
  handler: async (args: ArgumentsCamelCase<RunArgs>) => {
    checkLeaseFlags(args);
    if (args.badAfter !== undefined && !(Number.isInteger(args.badAfter) && args.badAfter >= 1)) throw new UsageError(`--bad-after must be a whole number of failures >= 1 (got ${args.badAfter})`);
    if (args.badAfter !== undefined && !args.bench) throw new UsageError('--bad-after applies to --bench runs (bench devices have health states)');
    // Everything that can be refused is refused before a board is touched (harness/cli/validate.ts).
    checkNotEmpty('--device', args.device);
    checkNotEmpty('--bench', args.bench);
    checkOutputPath('--junit', args.junit);
    checkOutputPath('--ctrf', args.ctrf);
    checkOutputPath('--json', args.json);
    checkOutputPath('--out', args.out, 'folder');
    const historyArg = historyFlag(args.history);
    if (typeof historyArg === 'string') throw new UsageError(historyArg);
    const history = resolveHistoryLocation(historyArg);
    checkOutputPath('--report', args.report, 'folder');
    if (args.report !== undefined && history.kind === 'off') throw new UsageError('--report is made from the history, which is off (--no-history or HIL_HISTORY=off)');
    checkBenchKeys(resolve(args.bench ?? DEFAULT_BENCH_FILE));
    const planned = resolveTargets({ device: args.device, bench: args.bench, profile: args.profile }).targets;
    await checkSerialIds(planned.map((t) => t.connection));
    if (args.recordGolden) {
      // Golden outputs come from one board that really runs the networks.
      if (planned.length !== 1) throw new UsageError(`--record-golden: golden outputs are recorded from one trusted board; give one --device (the bench has ${planned.length})`);
      if (planned[0]!.simulated) throw new UsageError(`--record-golden: ${planned[0]!.name} is a simulated board, which runs no network; record golden outputs on a real board (--device)`);
    }
    const colour = useColour(process.stdout);
    const err = process.stderr;
    const p = paint(useColour(err));
    const many = Boolean(args.bench);
    // On a terminal each check line is shown as it finishes, and not again in the summary.
    const streamed = !many && !args.quiet && Boolean(err.isTTY);
    const onEvent = (e: BenchEvent) => {
      if (args.quiet) return;
      if (e.type === 'lease-wait') err.write(`hil: ${e.device}: busy, held by ${e.holder}; waiting up to ${args.leaseWait} s\n`);
      if (e.type === 'profile-detected') err.write(`hil: ${e.note}\n`);
      if (e.type === 'check' && streamed) err.write(`${formatCheckLine(e.result, useColour(err))}\n`);
      if (e.type === 'device-end' && many) {
        const c = e.result.scenarios.flatMap((s) => s.checks);
        const bad = c.filter((x) => x.status === 'failed' || x.status === 'error').length + (e.result.error ? 1 : 0);
        err.write(`hil: ${e.device} done: ${bad ? p.red(`${bad} problem${bad > 1 ? 's' : ''}`) : 'ok'}\n`);
      }
    };
    // --bench: device health (harness/health), the states kept in the history store.
    const states = args.bench ? await openDeviceStates(historyArg.off ? false : historyArg.flag, { onWarning: (l) => err.write(`hil: ${l}\n`) }) : undefined;
    if (states && historyArg.off && !args.quiet) err.write('hil: --no-history: device states are not read or kept (no device is skipped as bad)\n');
    let run;
    try {
      run = await runScenariosWithHealth({
        health: states
          ? { store: states.store, badAfter: args.badAfter, onNote: (n) => { if (!args.quiet) err.write(`hil: ${n}\n`); } }
          : undefined,
        scenarios: args.scenario,
        device: args.device,
        bench: args.bench,
        profile: args.profile,
        onNote: (n) => err.write(`hil: ${n}\n`),
        image: args.image,
        flash: args.flash as FlashMode | undefined,
        outDir: args.out,
        leaseWaitMs: args.leaseWait * 1000,
        recordGolden: args.recordGolden,
        leases: args.leases,
        leaseTtlMs: args.leaseTtl * 1000,
        onEvent,
        // Leases, boards and children of this run; a signal aborts it and the reports below are
        // written with what finished.
        scope: scopeOf(args),
      });
    } finally {
      await states?.close();
    }
    process.stdout.write(formatConsole(run, { colour, quiet: args.quiet, omitChecks: streamed && Boolean(process.stdout.isTTY) }));
    if (args.junit) {
      await ensureParent(args.junit);
      await writeJUnit(args.junit, run);
    }
    if (args.ctrf) {
      await ensureParent(args.ctrf);
      await writeCtrf(args.ctrf, run, { hilVersion: hilVersion() });
    }
    if (args.json) {
      await ensureParent(args.json);
      await writeJsonReport(args.json, run);
    }
    if (args.out) {
      await mkdir(args.out, { recursive: true });
      await writeJsonReport(`${args.out}/results.json`, run);
    }
    // After the reports: the run's own result stands whatever happens to its history.
    await recordRunQuietly(history, run, { onWarning: (w) => err.write(`hil: warning: ${w}\n`) });
    // Last, once the run is in the history: the page shows it. A report that cannot be made is
    // one warning; the run's exit code stands.
    if (args.report !== undefined) await refreshReportQuietly(history, resolve(args.report), { hilVersion: hilVersion(), onWarning: (w) => err.write(`hil: warning: ${w}\n`) });
    process.exitCode = run.exitCode;
  },
};
