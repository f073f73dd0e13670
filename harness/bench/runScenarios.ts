/**
 * `hil run` as one library call: load the scenarios, pick the boards (bench file, device, the
 * configured default, or a simulated board started for the run) and run them all in parallel.
 */
import { loadScenario } from '../scenario/loadScenario.js';
import type { ScenarioDefinition } from '../scenario/definition.js';
import type { RunResult } from '../scenario/result.js';
import { resolveTargets } from './targets.js';
import { runBench, type RunBenchOptions } from './runBench.js';
import { openLeaseStore } from './leases/index.js';

export interface RunScenariosOptions extends Omit<RunBenchOptions, 'notes'> {
  /** Scenario folders, names under ./scenarios, or loaded definitions. */
  scenarios: (string | ScenarioDefinition)[];
  /** Device name from devices/bench.yaml or a connection string (`sim`, `sim:openmv-h7`, `/dev/ttyACM0`, ...). */
  device?: string;
  /** Bench file: every device in it, in parallel. */
  bench?: string;
  /** Board profile (required for a bare connection string; default openmv-h7 for the simulated board). */
  profile?: string;
  /** Folder relative paths are resolved against (default process.cwd()). */
  cwd?: string;
  /** Called with each note (e.g. "started a simulated openmv-h7 board"). */
  onNote?: (note: string) => void;
  /** Where leases live (`postgres://...`, `file`): wins over the bench file's `leases:` and $HIL_LEASES. */
  leases?: string;
  /** TTL of PostgreSQL leases (ms). */
  leaseTtlMs?: number;
}

export async function runScenarios(opts: RunScenariosOptions): Promise<RunResult> {
  const cwd = opts.cwd ?? process.cwd();
  const defs = opts.scenarios.map((s) => (typeof s === 'string' ? loadScenario(s, cwd) : s));
  const { targets, notes, leases } = resolveTargets({ device: opts.device, bench: opts.bench, profile: opts.profile, cwd });
  const store = opts.leaseStore ?? openLeaseStore({ leases: opts.leases ?? leases, lockDir: opts.lockDir, ttlMs: opts.leaseTtlMs });
  const closeStore = opts.leaseStore ? null : opts.scope?.defer(`leases ${store.where}`, () => store.close());
  if (store.kind === 'postgres') notes.push(`leases shared in ${store.where}`);
  for (const n of notes) opts.onNote?.(n);
  try {
    return await runBench(targets, defs, { ...opts, notes, leaseStore: store });
  } finally {
    if (!opts.leaseStore) await (closeStore ? closeStore.release() : store.close());
  }
}
