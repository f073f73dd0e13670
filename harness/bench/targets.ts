/**
 * Which boards a `hil run` drives: `--bench FILE` (every device in it), `--device D` (a name from
 * devices/bench.yaml, or a connection string: with --profile, or without, the profile then chosen
 * from what the board reports on connect), the bench file's `default`, or,
 * when nothing is configured, a simulated board started for the run (and the run says so).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { loadProfile, profileLoader } from '../profile/profile.js';
import { DEFAULT_BENCH_FILE, isSimConnection, readBenchFile, type BenchTarget } from './inventory.js';

export const DEFAULT_SIM_PROFILE = 'openmv-h7';

export interface TargetOptions {
  device?: string;
  bench?: string;
  profile?: string;
  cwd?: string;
}

export interface ResolvedTargets {
  targets: BenchTarget[];
  /** Said to the user (e.g. that a simulated board was started because none is configured). */
  notes: string[];
  /** The bench file's `leases:` (the --bench file's, or devices/bench.yaml's for its devices). */
  leases?: string;
}

export function resolveTargets(opts: TargetOptions): ResolvedTargets {
  const cwd = opts.cwd ?? process.cwd();
  if (opts.device && opts.bench) throw new UsageError('give --device or --bench, not both');
  if (opts.bench) {
    const bench = readBenchFile(resolve(cwd, opts.bench));
    const load = profileLoader();
    const targets = opts.profile ? bench.targets.map((t) => ({ ...t, profile: load(opts.profile!) })) : bench.targets;
    return { targets, notes: [`bench ${opts.bench}: ${targets.length} device${targets.length > 1 ? 's' : ''} in parallel`], leases: bench.leases };
  }
  const inventoryFile = resolve(cwd, DEFAULT_BENCH_FILE);
  const inventory = existsSync(inventoryFile) ? readBenchFile(inventoryFile) : undefined;
  if (opts.device) {
    const named = inventory?.targets.find((t) => t.name === opts.device);
    if (named) return { targets: [opts.profile ? { ...named, profile: loadProfile(opts.profile) } : named], notes: [], leases: inventory?.leases };
    const conn = opts.device;
    if (isSimConnection(conn)) {
      const prof = opts.profile ?? (conn.startsWith('sim:') ? conn.slice(4) : DEFAULT_SIM_PROFILE);
      return { targets: [{ name: conn, connection: conn, profile: loadProfile(prof), simulated: true, extra: {} }], notes: [] };
    }
    // hil must know which machine to start; a real board says what it is (chosen on connect).
    if (!opts.profile && (conn === 'qemu' || conn.startsWith('qemu:'))) throw new UsageError(`device ${conn}: give --profile (hil must know which machine to start: a qemu-* profile)`);
    return { targets: [{ name: conn, connection: conn, profile: opts.profile ? loadProfile(opts.profile) : undefined, simulated: false, extra: {} }], notes: [] };
  }
  if (inventory?.default) {
    const t = inventory.targets.find((x) => x.name === inventory.default)!;
    return { targets: [opts.profile ? { ...t, profile: loadProfile(opts.profile) } : t], notes: [`device ${t.name} (default in ${DEFAULT_BENCH_FILE})`], leases: inventory.leases };
  }
  const profile = loadProfile(opts.profile ?? DEFAULT_SIM_PROFILE);
  const why = inventory ? `${DEFAULT_BENCH_FILE} names no default device` : `no --device, no --bench and no ${DEFAULT_BENCH_FILE}`;
  return {
    targets: [{ name: `sim-${profile.name}`, connection: `sim:${profile.name}`, profile, simulated: true, extra: {} }],
    notes: [`${why}: started a simulated ${profile.name} board for this run (model inference is simulated, not run)`],
  };
}
