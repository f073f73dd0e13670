/**
 * `hil lease list [--all] [--json]` and `hil lease break NAME --force`: the board leases in force,
 * in the lock folder (default) or in PostgreSQL (`--leases postgres://...`, the bench file's
 * `leases:`, or $HIL_LEASES). NAME is a lease key as `hil lease list` shows it, or a device name of
 * the bench file. Breaking needs --force and says whose lease it broke; that holder stops before
 * its next board operation (its fence fails).
 */
import type { Argv, CommandModule } from 'yargs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { HilError, ExitCode, UsageError } from '../../errors.js';
import { DEFAULT_BENCH_FILE, readBenchFile } from '../../bench/inventory.js';
import { boardKey } from '../../bench/boardKey.js';
import { describeHolder, openLeaseStore, type LeaseRecord, type LeaseStore } from '../../bench/leases/index.js';
import { scopeOf } from '../../lifecycle/scope.js';

interface LeaseArgs {
  action: 'list' | 'break';
  name?: string;
  leases?: string;
  bench?: string;
  force: boolean;
  all: boolean;
  json: boolean;
}

export const LEASE_EPILOG = `Exit codes:
  0  listed; or the lease was broken (the line says whose)
  2  usage: break without --force (the line says who holds it), NAME is no lease held now, bad --leases
  3  the lease store cannot be reached (database down, wrong password)`;

function benchOf(args: LeaseArgs) {
  const file = resolve(args.bench ?? DEFAULT_BENCH_FILE);
  if (!args.bench && !existsSync(file)) return undefined;
  return readBenchFile(file);
}

function row(r: LeaseRecord): string {
  const token = r.token === null ? '' : ` token ${r.token}`;
  const exp = r.expires ? (r.live ? `, expires ${r.expires} unless renewed` : `, ended (expired or released) ${r.expires}`) : r.live ? '' : ' (holder gone)';
  return `${r.key}: ${describeHolder(r)}${token}${exp}`;
}

/** NAME as a lease key: a device name of the bench file is turned into its board's key. */
async function keyOf(name: string, args: LeaseArgs): Promise<string> {
  const bench = benchOf(args);
  const t = bench?.targets.find((x) => x.name === name);
  return t ? boardKey(t) : name;
}

export const leaseCommand: CommandModule<object, LeaseArgs> = {
  command: 'lease <action> [name]',
  describe: 'List board leases, or break one (--force)',
  builder: (y: Argv) =>
    y
      .positional('action', { choices: ['list', 'break'] as const, describe: 'list: leases held now; break NAME: end the lease on NAME whoever holds it' })
      .positional('name', { type: 'string', describe: 'lease key (as lease list shows it) or a device name of the bench file' })
      .option('leases', { type: 'string', describe: "postgres://USER:PASS@HOST/DB or file (default: the bench file's 'leases:', else $HIL_LEASES, else this host's lock files)" })
      .option('bench', { alias: 'b', type: 'string', describe: `bench file (default ${DEFAULT_BENCH_FILE} when present): its 'leases:' and device names` })
      .option('force', { type: 'boolean', default: false, describe: 'break: really end a lease another runner may be using' })
      .option('all', { type: 'boolean', default: false, describe: 'list: also leases that ended or expired (PostgreSQL keeps them) or whose holder is gone' })
      .option('json', { type: 'boolean', default: false, describe: 'list: JSON, one array' })
      .example('$0 lease list --leases postgres://hil:hil@db/bench', 'who holds which board, until when')
      .example('$0 lease break cam3 --bench bench.yaml --force', "end the lease on bench.yaml's cam3 (its holder stops before its next board operation)")
      .epilog(LEASE_EPILOG) as unknown as Argv<LeaseArgs>,
  handler: async (args) => {
    if (args.leases !== undefined && args.leases.trim() === '') throw new UsageError('--leases is empty (an unset variable?): give postgres://USER:PASS@HOST/DB or file, or leave the flag out');
    const bench = benchOf(args);
    const store: LeaseStore = openLeaseStore({ leases: args.leases ?? bench?.leases });
    const scope = scopeOf(args);
    scope.defer(`leases ${store.where}`, () => store.close());
    if (args.action === 'list') {
      if (args.name !== undefined) throw new UsageError(`hil lease list takes no NAME (got '${args.name}')`);
      const leases = await store.list({ all: args.all });
      if (args.json) process.stdout.write(`${JSON.stringify(leases, null, 2)}\n`);
      else if (!leases.length) process.stdout.write(`no leases held (${store.where})\n`);
      else process.stdout.write(`${leases.map(row).join('\n')}\n`);
      return;
    }
    if (!args.name) throw new UsageError('hil lease break needs NAME: a lease key as `hil lease list` shows it, or a device name of the bench file');
    const key = await keyOf(args.name, args);
    if (!args.force) {
      const held = (await store.list()).find((r) => r.key === key);
      if (!held) throw new UsageError(`no lease on ${key} is held now (${store.where}); nothing to break`);
      throw new UsageError(`lease on ${key} is held by ${describeHolder(held)}${held.token !== null ? ` token ${held.token}` : ''}; add --force to break it (that holder stops before its next board operation)`);
    }
    const by = `broken by PID ${process.pid} on ${hostname()} (hil lease break) at ${new Date().toISOString()}`;
    const was = await store.breakLease(key, by);
    if (!was) throw new HilError(`no lease on ${key} is held now (${store.where}); nothing broken`, ExitCode.USAGE);
    process.stdout.write(`broke the lease on ${key} held by ${describeHolder(was)}${was.token !== null ? ` token ${was.token}` : ''}${was.live ? '' : ' (its holder was already gone)'}\n`);
  },
};
