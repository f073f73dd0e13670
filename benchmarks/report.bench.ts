/**
 * The nightly report's figure (issue 13), run by `npm run bench` through benchmarks/index.ts:
 * a seeded history of 16 devices x 3 scenarios x 60 nights (harness/history/seed.ts) in SQLite,
 * then `hil report --html DIR --history FILE` end to end (the built CLI, a new process: start-up,
 * reading the history, assembling, rendering, writing the page), goal <= 2 s. Same-run reference:
 * a new process that only opens the history and reads what the report reads (recent runs, every
 * attempt's verdicts, health runs, device states), so the ratio is what the report adds on top of
 * reading; beside it, a new process reading the full result rows (what the report read before
 * schema v2: identity, details, data JSON per row). Also in-process: reading vs the whole
 * generation, and the page's size. Median of 3 each, the three processes interleaved.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openHistory } from '../harness/history/index.js';
import { seedHistory } from '../harness/history/seed.js';
import { generateReport } from '../harness/report/html/generate.js';
import { DEFAULT_GRID_RUNS, DEFAULT_WINDOW_RUNS } from '../harness/report/html/query.js';
import type { Figure } from './index.js';

// dist/benchmarks -> the repository root (bin/hil.js, dist/harness).
const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

interface Ctx {
  tmpDir: string;
  log?(line: string): void;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function wall(args: string[], what: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', timeout: 120_000 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${what} exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
  return ms;
}

export async function run(ctx: Ctx): Promise<Figure[]> {
  const log = (l: string) => ctx.log?.(l);
  const file = join(ctx.tmpDir, 'history.sqlite');
  const store = await openHistory(file);
  const s0 = performance.now();
  try {
    await seedHistory(store);
    await store.setDeviceState('cam16', { state: 'bad', reason: 'no answer on 3 nights', since: new Date().toISOString(), consecutiveFailures: 3 });
  } finally {
    await store.close();
  }
  const seedMs = performance.now() - s0;
  log(`seeded 16 x 3 x 60 in ${seedMs.toFixed(0)} ms`);
  const out = join(ctx.tmpDir, 'report');
  const reader = pathToFileURL(join(root, 'dist/harness/history/index.js')).href;
  // The reference: a process that reads what the report reads, and nothing else.
  const readOnly = `const h = await import(${JSON.stringify(reader)}); const s = await h.openHistory(${JSON.stringify(file)});
const runs = await s.recentRuns({ limit: ${DEFAULT_WINDOW_RUNS}, kind: 'run' }); const rows = await s.verdicts(runs.map((r) => r.id));
const hr = await s.recentRuns({ limit: 200, kind: 'health' }); await s.verdicts(hr.map((r) => r.id), { finalOnly: true });
await s.listDeviceStates(); await s.close(); if (rows.length === 0) process.exit(1);`;
  const readFull = `const h = await import(${JSON.stringify(reader)}); const s = await h.openHistory(${JSON.stringify(file)});
const runs = await s.recentRuns({ limit: ${DEFAULT_WINDOW_RUNS} }); const rows = await s.resultsForRuns(runs.map((r) => r.id));
await s.listDeviceStates(); await s.close(); if (rows.length === 0) process.exit(1);`;
  const e2e: number[] = [];
  const ref: number[] = [];
  const full: number[] = [];
  for (let i = 0; i < 3; i++) {
    ref.push(wall(['--input-type=module', '-e', readOnly], 'reading the verdicts'));
    full.push(wall(['--input-type=module', '-e', readFull], 'reading the full rows'));
    e2e.push(wall(['bin/hil.js', 'report', '--html', out, '--history', file], 'hil report --html'));
  }
  // In process: reading alone vs the whole generation (read + assemble + render + write).
  const readIn: number[] = [];
  const genIn: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const s = await openHistory(file);
    const runs = await s.recentRuns({ limit: DEFAULT_WINDOW_RUNS, kind: 'run' });
    await s.verdicts(runs.map((r) => r.id));
    await s.listDeviceStates();
    await s.close();
    readIn.push(performance.now() - t0);
    const t1 = performance.now();
    await generateReport({ kind: 'sqlite', file }, out, { hilVersion: 'bench', gridRuns: DEFAULT_GRID_RUNS, windowRuns: DEFAULT_WINDOW_RUNS });
    genIn.push(performance.now() - t1);
  }
  const page = statSync(join(out, 'index.html')).size;
  const e = median(e2e);
  const r = median(ref);
  const f = median(full);
  log(`end to end ${e2e.map((x) => x.toFixed(0)).join(', ')} ms; reading only ${ref.map((x) => x.toFixed(0)).join(', ')} ms; full rows ${full.map((x) => x.toFixed(0)).join(', ')} ms`);
  return [
    {
      name: 'hil report --html, seeded 16 dev x 3 scen x 60 nights, end to end (new process)', value: e, unit: 'ms',
      reference: { name: 'new process that only reads what the report reads', value: r, unit: 'ms' }, ratio: e / r, goal: '<= 2000 ms', met: e <= 2000,
      note: `median of 3 (${e2e.map((x) => x.toFixed(0)).join(', ')}); ${DEFAULT_GRID_RUNS} runs in the grid, ${DEFAULT_WINDOW_RUNS} for flaky and trends`,
    },
    {
      name: 'new process reading the full result rows of the same runs (the report\'s read before schema v2)', value: f, unit: 'ms',
      reference: { name: 'reading what the report reads', value: r, unit: 'ms' }, ratio: f / r, note: 'median of 3',
    },
    {
      name: 'report generation in process (read + assemble + render + write)', value: median(genIn), unit: 'ms',
      reference: { name: 'reading the rows in process', value: median(readIn), unit: 'ms' }, ratio: median(genIn) / median(readIn),
    },
    { name: 'report page size (one self-contained file, uPlot inline)', value: page / 1024, unit: 'KiB' },
  ];
}
