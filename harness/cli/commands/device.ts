/**
 * `hil device list [--bench FILE] [--json]`: every bench device with its health state (ok,
 * suspect, bad), since when and why, from the history store.
 * `hil device health NAME [--bench FILE] [--scenario S]`: runs the health scenario (default
 * scenarios/health: listing, imports and placement of hil's known-good image, images/health) on
 * one bench device; a pass returns it to `ok`, a failure counts as one more failure (harness/health).
 */
import type { Argv, CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DEFAULT_BENCH_FILE, readBenchFile, type BenchFile } from '../../bench/inventory.js';
import { runBench } from '../../bench/runBench.js';
import { UsageError } from '../../errors.js';
import { openDeviceStates } from '../../health/historyStore.js';
import { nextState, replacedNote, stateOfBoardAt, type DeviceState } from '../../health/state.js';
import { scopeOf } from '../../lifecycle/scope.js';
import { formatConsole } from '../../report/console.js';
import { useColour } from '../../report/colour.js';
import { writeJsonReport } from '../../report/json.js';
import { loadScenario } from '../../scenario/loadScenario.js';
import { checkBenchKeys, checkNotEmpty, checkOutputPath, checkSeconds } from '../validate.js';

interface DeviceArgs {
  bench?: string;
  history?: string | false;
}

interface ListArgs extends DeviceArgs {
  json: boolean;
}

interface HealthArgs extends DeviceArgs {
  name: string;
  scenario: string;
  out?: string;
  json?: string;
  leaseWait: number;
}

function bench(args: DeviceArgs): BenchFile {
  checkNotEmpty('--bench', args.bench);
  const file = resolve(args.bench ?? DEFAULT_BENCH_FILE);
  if (!existsSync(file)) throw new UsageError(`${args.bench ?? DEFAULT_BENCH_FILE}: bench file not found (give --bench FILE)`);
  checkBenchKeys(file);
  return readBenchFile(file);
}

const historyOption = (y: Argv) =>
  y
    .option('bench', { alias: 'b', type: 'string', describe: `bench file (default ${DEFAULT_BENCH_FILE})` })
    .option('history', { type: 'string', describe: 'history store holding the device states: a SQLite file or postgres://... (default $HIL_HISTORY, else $XDG_STATE_HOME/hil/history.sqlite); --no-history: states are not read or kept' });

const warn = (line: string) => process.stderr.write(`hil: ${line}\n`);

export const DEVICE_EPILOG = `States: ok (no unresolved infrastructure error), suspect (an infrastructure error, recovered
or not, or a failed health scenario), bad (not recovered N times in a row, default 3: hil run
--bench skips it, exit 6). Only a passing 'hil device health NAME' returns a device to ok.
A state is the board's (its unique id), labelled with the bench name: before a run the state of
the board last seen under NAME applies; when another board answers under NAME it gets a state of
its own (reported), and the old board keeps its state. Each 'device health' run is recorded in
the history as a run of kind health (hil history, the report's device health).

Exit codes of 'device health': 0 passed (the device is ok), 1 a check failed, 2 usage or
configuration, 3 infrastructure error (link or board).`;

const listCommand: CommandModule<object, ListArgs> = {
  command: 'list',
  describe: 'Bench devices and their health state (ok, suspect, bad), since when and why',
  builder: (y: Argv) => historyOption(y).option('json', { type: 'boolean', default: false, describe: 'print JSON' }) as unknown as Argv<ListArgs>,
  handler: async (args) => {
    const b = bench(args);
    if (args.history === false) throw new UsageError('hil device list: device states live in the history; --no-history leaves nothing to show');
    const states = await openDeviceStates(args.history, { onWarning: warn });
    let recorded: DeviceState[];
    try {
      recorded = await states.store.listDeviceStates();
    } finally {
      await states.close();
    }
    const byName = new Map(recorded.map((s) => [s.device, s]));
    const rows = b.targets.map((t) => {
      const s = byName.get(t.name);
      return { device: t.name, connection: t.connection, profile: t.profile?.name ?? 'auto', state: s?.state ?? 'ok', since: s?.since ?? null, reason: s?.reason ?? null, failures: s?.failures ?? 0, recorded: Boolean(s), boardId: s?.boardId ?? null, power: t.power ?? null };
    });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ bench: b.file, history: states.where, statesKept: states.kept, devices: rows }, null, 2)}\n`);
      return;
    }
    process.stdout.write(`Bench ${args.bench ?? DEFAULT_BENCH_FILE} (states: ${states.where}):\n`);
    for (const r of rows) {
      const when = r.recorded ? ` since ${r.since}${r.boardId ? ` (board ${r.boardId})` : ''}` : ' (no record)';
      const why = r.reason ? `: ${r.reason}` : '';
      process.stdout.write(`  ${r.device.padEnd(16)} ${r.state.padEnd(8)}${when}${why}\n`);
    }
  },
};

const healthCommand: CommandModule<object, HealthArgs> = {
  command: 'health <name>',
  describe: 'Run the health scenario on a bench device; a pass returns it to ok',
  builder: (y: Argv) =>
    historyOption(y)
      .positional('name', { type: 'string', demandOption: true, describe: 'the device name in the bench file' })
      .option('scenario', { type: 'string', default: 'health', describe: "health scenario (default hil's scenarios/health: listing, imports and placement of images/health)" })
      .option('out', { alias: 'o', type: 'string', describe: 'write the transcript, log and results.json under DIR/<device>/' })
      .option('json', { type: 'string', describe: 'write the results as JSON here' })
      .option('lease-wait', { type: 'number', default: 60, describe: 'seconds to wait for a device leased by another hil process' })
      .epilog(DEVICE_EPILOG) as unknown as Argv<HealthArgs>,
  handler: async (args) => {
    checkNotEmpty('name', args.name);
    checkSeconds('--lease-wait', args.leaseWait, { zero: true });
    checkOutputPath('--out', args.out, 'folder');
    const jsonFile = args.json;
    checkOutputPath('--json', jsonFile);
    const b = bench(args);
    const t = b.targets.find((x) => x.name === args.name);
    if (!t) throw new UsageError(`device ${args.name} is not in ${args.bench ?? DEFAULT_BENCH_FILE} (devices: ${b.targets.map((x) => x.name).join(', ')})`);
    const scenario = loadScenario(args.scenario);
    const states = await openDeviceStates(args.history, { onWarning: warn });
    if (!states.kept && args.history === false) warn('--no-history: the device state is not read or kept');
    try {
      const run = await runBench([t], [scenario], { scope: scopeOf(args), leaseWaitMs: args.leaseWait * 1000, outDir: args.out });
      const passed = run.exitCode === 0;
      const d = run.devices[0]!;
      const problem = d.error?.message
        ?? d.scenarios.flatMap((s) => (s.error ? [`${s.error.phase ?? 'setup'}: ${s.error.message}`] : s.checks.filter((c) => c.status === 'failed' || c.status === 'error').map((c) => `${c.name}: ${c.reason ?? c.status}`)))[0];
      // The board that answered decides whose state this is (harness/health/state.ts).
      const at = await stateOfBoardAt(states.store, t.name, d.identity?.uniqueId);
      const prev = at.prev;
      const next = nextState(prev, t.name, { kind: 'health', passed, reason: problem }, { boardId: at.boardId });
      await states.store.setDeviceState(next);
      d.health = { state: next.state, since: next.since, ...(next.reason ? { reason: next.reason } : {}), failures: next.failures };
      // In the history as a run of its own (kind health): hil history and the report show it.
      await states.recordHealthRun(run);
      process.stdout.write(formatConsole(run, { colour: useColour(process.stdout) }));
      if (at.replaced && at.boardId) process.stdout.write(`${replacedNote(t.name, at.boardId, at.replaced, next)}\n`);
      const was = prev && prev.state !== next.state ? ` (was ${prev.state} since ${prev.since})` : '';
      process.stdout.write(`${t.name}: ${next.state}${was}${next.reason ? `: ${next.reason}` : ''}${states.kept ? '' : ' [not kept]'}\n`);
      if (jsonFile) {
        await mkdir(dirname(resolve(jsonFile)), { recursive: true });
        await writeJsonReport(jsonFile, run);
      }
      if (args.out) {
        await mkdir(args.out, { recursive: true });
        await writeJsonReport(`${args.out}/results.json`, run);
      }
      process.exitCode = run.exitCode;
    } finally {
      await states.close();
    }
  },
};

export const deviceCommand: CommandModule<object, object> = {
  command: 'device <command>',
  describe: 'Bench device health: list states, run the health scenario',
  builder: (y: Argv) => y.command(listCommand).command(healthCommand).demandCommand(1, 'Name a device command: list or health.') as unknown as Argv<object>,
  handler: () => {},
};
