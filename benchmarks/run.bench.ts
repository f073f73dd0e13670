/**
 * `hil run` benchmarks (issue 5), run by `npm run bench` through benchmarks/index.ts:
 *   - wall time of `hil run scenarios/model-load` on QEMU including boot (goal <= 3 s), when
 *     HIL_QEMU_FIRMWARE is set, and on the simulated board;
 *   - a bench of 16 simulated boards against one board: goal wall <= 1.5 x (one board's wall x
 *     16 / cores), and hil's own CPU (the hil process's main thread, where the workers, leases,
 *     probes' host side and reports run) <= 5 % of the wall time. hil starts the 16 simulated
 *     boards itself for the wall figure; for the CPU figure the 16 boards are started first and
 *     named by their ptys in the bench file, as a bench of real cams is, so spawning simulators
 *     (not hil's work on a real bench) is left out of hil's share. Both are reported.
 * Each run goes through the same library call the CLI uses (runScenarios).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenarios } from '../harness/bench/runScenarios.js';
import { startSim, type SimBoard } from '../harness/sim/index.js';
import { builtinScenarioDir } from '../harness/scenario/loadScenario.js';
import type { RunResult } from '../harness/scenario/result.js';

import type { Figure } from './index.js';

// The repository root (from sources or from dist/benchmarks): where package.json and scenarios/ are.
const root = dirname(builtinScenarioDir() ?? resolve(fileURLToPath(new URL('../scenarios', import.meta.url))));
const scenario = join(root, 'scenarios/model-load');

/** CPU seconds of this process's main thread (Linux: /proc/self/task/<pid>/stat utime+stime). */
export function mainThreadCpuMs(): number | null {
  try {
    const s = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

async function timed(f: () => Promise<RunResult>): Promise<{ ms: number; cpuMs: number | null; processCpuMs: number; run: RunResult }> {
  const c0 = mainThreadCpuMs();
  const p0 = process.cpuUsage();
  const t0 = performance.now();
  const run = await f();
  const ms = performance.now() - t0;
  const c1 = mainThreadCpuMs();
  const p = process.cpuUsage(p0);
  if (run.exitCode !== 0) throw new Error(`hil run exited ${run.exitCode}: ${JSON.stringify(run.devices.map((d) => d.error ?? d.scenarios.map((s) => s.error ?? s.checks.filter((c) => c.status === 'failed'))))}`);
  return { ms, cpuMs: c0 !== null && c1 !== null ? c1 - c0 : null, processCpuMs: (p.user + p.system) / 1000, run };
}

/** What benchmarks/index.ts passes (structural, so this module stands alone). */
interface Ctx {
  log?(line: string): void;
}

export async function run(ctx?: Ctx): Promise<Figure[]> {
  const log = (l: string) => ctx?.log?.(l);
  const figures: Figure[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'hil-run-bench-'));
  const lockDir = join(tmp, 'locks');
  try {
    const fw = process.env.HIL_QEMU_FIRMWARE;
    if (fw) {
      log('run: model-load on QEMU (incl. boot)');
      const q = await timed(() => runScenarios({ scenarios: [scenario], device: 'qemu', profile: 'qemu-mps2-an385', cwd: root, lockDir }));
      figures.push({ name: 'run.model-load.qemu.wall', value: Math.round(q.ms), unit: 'ms', goal: '<= 3000 ms incl. QEMU boot', met: q.ms <= 3000 });
    } else {
      figures.push({ name: 'run.model-load.qemu.wall', value: NaN, unit: 'ms', goal: '<= 3000 ms incl. QEMU boot', note: 'skipped: HIL_QEMU_FIRMWARE is not set' });
    }

    log('run: model-load on one simulated board');
    const one = await timed(() => runScenarios({ scenarios: [scenario], device: 'sim:openmv-h7', cwd: root, lockDir }));
    figures.push({ name: 'run.model-load.sim.wall', value: Math.round(one.ms), unit: 'ms' });

    const n = 16;
    const bench = join(tmp, 'bench16.yaml');
    writeFileSync(bench, `devices:\n${Array.from({ length: n }, (_, i) => `  sim${i}: { profile: openmv-h7, connection: sim }\n`).join('')}`);
    log(`run: model-load on ${n} simulated boards in parallel`);
    const many = await timed(() => runScenarios({ scenarios: [scenario], bench, cwd: root, lockDir }));
    const cores = availableParallelism();
    const ideal = one.ms * Math.max(1, n / cores);
    figures.push({
      name: `run.model-load.sim.bench${n}.wall`, value: Math.round(many.ms), unit: 'ms',
      reference: { name: `one board x ${n} boards / ${cores} cores`, value: Math.round(ideal), unit: 'ms' },
      ratio: many.ms / ideal, goal: '<= 1.5', met: many.ms / ideal <= 1.5,
    });
    if (many.cpuMs !== null) {
      figures.push({
        name: `run.model-load.sim.bench${n}.main-thread-cpu-incl-starting-sims`, value: Math.round(many.cpuMs), unit: 'ms',
        reference: { name: 'wall', value: Math.round(many.ms), unit: 'ms' },
        ratio: many.cpuMs / many.ms,
        note: `whole process ${Math.round(many.processCpuMs)} ms CPU`,
      });
    }
    // The same bench with the 16 boards already running (named by their ptys, like real cams).
    const sims: SimBoard[] = [];
    try {
      for (let i = 0; i < n; i++) sims.push(await startSim({ profile: 'openmv-h7', link: 'pty' }));
      const external = join(tmp, 'bench16-external.yaml');
      writeFileSync(external, `devices:\n${sims.map((s, i) => `  cam${i}: { profile: openmv-h7, connection: ${JSON.stringify(s.connection)} }\n`).join('')}`);
      log(`run: model-load on ${n} running simulated boards named by their ptys`);
      const ext = await timed(() => runScenarios({ scenarios: [scenario], bench: external, cwd: root, lockDir }));
      if (ext.cpuMs !== null) {
        figures.push({
          name: `run.model-load.sim.bench${n}.hil-main-thread-cpu`, value: Math.round(ext.cpuMs), unit: 'ms',
          reference: { name: 'wall', value: Math.round(ext.ms), unit: 'ms' },
          ratio: ext.cpuMs / ext.ms, goal: '<= 0.05 of wall', met: ext.cpuMs / ext.ms <= 0.05,
          note: `boards started before, as on a real bench; whole process ${Math.round(ext.processCpuMs)} ms CPU`,
        });
      }
    } finally {
      for (const s of sims) await s.stop();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return figures;
}
