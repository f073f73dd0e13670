/**
 * Fault matrix (issue 6): `hil flash` through the fault-injecting link against the simulated
 * board, one fault per run in each protocol phase, repeated. Prints the matrix as a markdown table
 * on stderr (the runner's table stays on stdout) and returns its totals as figures.
 * HIL_FAULT_REPEATS sets runs per cell (default 5).
 */
import { join } from 'node:path';
import type { BenchContext, Figure } from './index.js';
import { runFlashMatrix, matrixTable } from '../harness/fault/matrix.js';

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const repeats = Number(process.env.HIL_FAULT_REPEATS ?? 5);
  const { cells } = await runFlashMatrix({
    image: join(ctx.root, 'test/fixtures/romfs/micropython-random.img'),
    repeats,
    seed: 6,
    log: ctx.log,
  });
  const table = matrixTable(cells);
  process.stderr.write(`\nFault matrix (hil flash through the fault proxy, sim board, ${repeats} runs per cell):\n${table}\n\n`);
  const sum = (k: 'runs' | 'passed' | 'infra' | 'otherErrors' | 'falsePasses' | 'hangs') => cells.reduce((a, c) => a + c[k], 0);
  const worst = Math.max(...cells.map((c) => c.worstMs));
  return [
    { name: 'fault matrix runs', value: sum('runs'), unit: 'runs', note: `${cells.length} phases x ${repeats}` },
    { name: 'fault matrix passed after retry', value: sum('passed'), unit: 'runs' },
    { name: 'fault matrix infra errors (exit 3)', value: sum('infra'), unit: 'runs' },
    { name: 'fault matrix other errors', value: sum('otherErrors'), unit: 'runs', goal: '0 (every failure classified as infra)', met: sum('otherErrors') === 0 },
    { name: 'fault matrix false passes', value: sum('falsePasses'), unit: 'runs', goal: '0', met: sum('falsePasses') === 0 },
    { name: 'fault matrix hangs', value: sum('hangs'), unit: 'runs', goal: '0', met: sum('hangs') === 0 },
    { name: 'fault matrix worst run', value: worst / 1000, unit: 's', goal: '<= 90 s watchdog', met: worst < 90_000 },
  ];
}
