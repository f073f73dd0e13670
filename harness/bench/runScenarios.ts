/**
 * `hil run` as one library call: load the scenarios, pick the boards (bench file, device, the
 * configured default, or a simulated board started for the run) and run them all in parallel.
 */
import { loadScenario } from '../scenario/loadScenario.js';
import type { ScenarioDefinition } from '../scenario/definition.js';
import type { RunResult } from '../scenario/result.js';
import { resolveTargets } from './targets.js';
import { runBench, type RunBenchOptions } from './runBench.js';

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
}

export async function runScenarios(opts: RunScenariosOptions): Promise<RunResult> {
  const cwd = opts.cwd ?? process.cwd();
  const defs = opts.scenarios.map((s) => (typeof s === 'string' ? loadScenario(s, cwd) : s));
  const { targets, notes, leases } = resolveTargets({ device: opts.device, bench: opts.bench, profile: opts.profile, cwd });
  for (const n of notes) opts.onNote?.(n);
  // The leases: --leases, else the bench file's, else $HIL_LEASES, else lock files (runBench opens them).
  return runBench(targets, defs, { ...opts, notes, leases: opts.leases ?? leases });
}
