/**
 * Fault matrices (issue 6): `hil flash` and `hil run scenarios/model-load` through the
 * fault-injecting link against the simulated board, one fault per run in each protocol phase,
 * repeated. Prints each matrix as a markdown table on stderr (the runner's table stays on stdout)
 * and returns the totals as figures. HIL_FAULT_REPEATS sets runs per cell (default 5);
 * HIL_FAULT_MATRICES=flash or =run runs only one of them; HIL_FAULT_LINK=rfc2217 puts ser2net
 * (RFC 2217, exporting the sim's pty) between the proxy and the board, hil on rfc2217://.
 */
import { join } from 'node:path';
import type { BenchContext, Figure } from './index.js';
import { matrixTable, matrixTotals, type MatrixCell } from '../harness/fault/matrix.js';
import { runFlashMatrix } from '../harness/fault/flashMatrix.js';
import { runRunMatrix } from '../harness/fault/runMatrix.js';

const WATCHDOG_MS = 90_000;

function figures(what: string, cells: MatrixCell[], repeats: number): Figure[] {
  const t = matrixTotals(cells);
  return [
    { name: `${what} fault matrix runs`, value: t.runs, unit: 'runs', note: `${cells.length} phases x ${repeats}` },
    { name: `${what} fault matrix runs whose fault fired`, value: t.fired, unit: 'runs', goal: 'all runs', met: t.fired === t.runs },
    { name: `${what} fault matrix passed after retry`, value: t.passed, unit: 'runs' },
    { name: `${what} fault matrix infra errors (exit 3, phase named)`, value: t.infra, unit: 'runs' },
    { name: `${what} fault matrix other errors`, value: t.otherErrors, unit: 'runs', goal: '0 (every failure classified as infra with its phase)', met: t.otherErrors === 0 },
    { name: `${what} fault matrix wrong verdicts`, value: t.wrongVerdicts, unit: 'runs', goal: '0', met: t.wrongVerdicts === 0 },
    { name: `${what} fault matrix false passes`, value: t.falsePasses, unit: 'runs', goal: '0', met: t.falsePasses === 0 },
    { name: `${what} fault matrix hangs`, value: t.hangs, unit: 'runs', goal: '0', met: t.hangs === 0 },
    { name: `${what} fault matrix worst run`, value: t.worstMs / 1000, unit: 's', goal: `< ${WATCHDOG_MS / 1000} s watchdog`, met: t.worstMs < WATCHDOG_MS },
  ];
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const repeats = Number(process.env.HIL_FAULT_REPEATS ?? 5);
  const which = process.env.HIL_FAULT_MATRICES ?? 'flash,run';
  const link = process.env.HIL_FAULT_LINK === 'rfc2217' ? 'rfc2217' : undefined;
  const via = link ? ', behind ser2net (rfc2217://)' : '';
  const out: Figure[] = [];
  if (which.includes('flash')) {
    const { cells } = await runFlashMatrix({
      image: join(ctx.root, 'test/fixtures/romfs/micropython-random.img'),
      repeats,
      seed: 6,
      watchdogMs: WATCHDOG_MS,
      log: (l) => ctx.log(`flash: ${l}`),
      link,
    });
    process.stderr.write(`\nFault matrix: hil flash through the fault proxy, sim board${via}, ${repeats} runs per cell:\n${matrixTable(cells)}\n\n`);
    out.push(...figures(link ? 'flash (rfc2217)' : 'flash', cells, repeats));
  }
  if (which.includes('run')) {
    const { cells } = await runRunMatrix({ repeats, seed: 7, watchdogMs: WATCHDOG_MS, log: (l) => ctx.log(`run: ${l}`), link });
    process.stderr.write(
      `\nFault matrix: hil run scenarios/model-load through the fault proxy, sim board${via}, ${repeats} runs per cell (good and misaligned image alternating):\n${matrixTable(cells)}\n\n`,
    );
    out.push(...figures(link ? 'run (rfc2217)' : 'run', cells, repeats));
  }
  return out;
}
