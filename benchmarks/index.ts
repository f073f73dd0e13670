/**
 * `npm run bench`: runs every benchmark module (`benchmarks/<name>.bench.ts`, compiled to
 * dist/benchmarks/<name>.bench.js) and prints ONE markdown table of all their figures.
 * Each module exports `async function run(ctx: BenchContext): Promise<Figure[]>`.
 * Arguments: names to run only some modules (`npm run bench -- romfs flash`); `--json FILE`
 * also writes the figures as JSON. A module that throws is reported in the table, not fatal.
 */
import { readdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface Figure {
  name: string;
  value: number;
  unit: string;
  reference?: { name: string; value: number; unit: string };
  ratio?: number;
  goal?: string;
  met?: boolean;
  note?: string;
}

export interface BenchContext {
  /** The repository root (where package.json is). */
  root: string;
  /** A temp folder for this module, removed afterwards. */
  tmpDir: string;
  /** Progress lines (stderr, so the table on stdout stays clean). */
  log(line: string): void;
}

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '';
  const a = Math.abs(n);
  return a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : a >= 0.1 ? n.toFixed(2) : n.toPrecision(2);
}

export function figuresTable(rows: { module: string; figure: Figure }[]): string {
  const lines = ['| module | figure | value | reference | ratio | goal | met |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const { module, figure: f } of rows) {
    const ref = f.reference ? `${f.reference.name}: ${fmt(f.reference.value)} ${f.reference.unit}` : '';
    const met = f.met === undefined ? '' : f.met ? 'yes' : '**no**';
    const name = f.note ? `${f.name} (${f.note})` : f.name;
    lines.push(`| ${module} | ${name} | ${fmt(f.value)} ${f.unit} | ${ref} | ${f.ratio === undefined ? '' : fmt(f.ratio)} | ${f.goal ?? ''} | ${met} |`);
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const jsonAt = argv.indexOf('--json');
  const jsonFile = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;
  const only = argv.filter((a, i) => !a.startsWith('--') && (jsonAt < 0 || i !== jsonAt + 1));
  const modules = readdirSync(here)
    .filter((f) => f.endsWith('.bench.js'))
    .sort()
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(`${o}.`)));
  const rows: { module: string; figure: Figure }[] = [];
  let failed = 0;
  for (const file of modules) {
    const name = file.replace(/\.bench\.js$/, '');
    const tmpDir = mkdtempSync(join(tmpdir(), `hil-bench-${name}-`));
    const ctx: BenchContext = { root, tmpDir, log: (l) => process.stderr.write(`[${name}] ${l}\n`) };
    ctx.log('running');
    try {
      const mod = (await import(pathToFileURL(join(here, file)).href)) as { run?: (ctx: BenchContext) => Promise<Figure[]> };
      if (typeof mod.run !== 'function') throw new Error('exports no run(ctx)');
      for (const figure of await mod.run(ctx)) rows.push({ module: name, figure });
    } catch (e) {
      failed++;
      const msg = ((e as Error)?.message ?? String(e)).split('\n')[0]!.replace(/\|/g, '/');
      rows.push({ module: name, figure: { name: `FAILED: ${msg}`, value: NaN, unit: '' } });
    } finally {
      rmSync(tmpDir, { recursive: true, force: true });
    }
  }
  process.stdout.write(`${figuresTable(rows)}\n`);
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify(rows, null, 2));
  return failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
