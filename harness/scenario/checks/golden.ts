/**
 * Golden outputs of the models check: what a trusted board's model gave for the scenario's input,
 * kept in the scenario folder as `golden/<model path>.json` (dtype, shape, values, the firmware
 * and the image they came from), written by `hil run --record-golden` and compared on every
 * later run: exact by default, within an absolute `tolerance` per model where asked. The
 * comparisons are pure functions (unit-tested on constructed outputs).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ScenarioConfigError } from '../errors.js';
import type { ModelInput } from '../definition.js';

/** The outputs of one inference, as the board returned them. */
export interface ModelOutputs {
  /** Output dtypes as the model declares them ('b', 'f', ...); the values are ml's floats. */
  dtype: string[];
  shape: number[][];
  /** Each output's values (flattened, at most the check's limit each). */
  values: number[][];
  /** How many values each output has (more than `values` holds when cut). */
  counts: number[];
}

export interface GoldenFile extends ModelOutputs {
  format: 'hil-golden/1';
  model: string;
  input: ModelInput;
  /** The board and firmware the values came from. */
  firmware: { profile: string; platform?: string; machine?: string | null; implementation?: string | null; release?: string | null; version?: string | null };
  image: { sha256: string; source: string };
  recordedAt: string;
}

/** Where a model's golden file lives. */
export function goldenPath(dir: string, model: string): string {
  return join(dir, `${model}.json`);
}

export function readGolden(dir: string, model: string): GoldenFile | undefined {
  const file = goldenPath(dir, model);
  if (!existsSync(file)) return undefined;
  let g: unknown;
  try {
    g = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ScenarioConfigError(`${file}: not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  const o = g as Partial<GoldenFile>;
  const lists = (v: unknown, inner: (x: unknown) => boolean) => Array.isArray(v) && v.every((x) => Array.isArray(x) && x.every(inner));
  if (o?.format !== 'hil-golden/1' || !Array.isArray(o.dtype) || !lists(o.shape, Number.isInteger) || !lists(o.values, (x) => typeof x === 'number') || !Array.isArray(o.counts)) {
    throw new ScenarioConfigError(`${file}: not a hil golden file (format hil-golden/1 with dtype, shape, values, counts)`);
  }
  return o as GoldenFile;
}

export function writeGolden(dir: string, g: GoldenFile): string {
  const file = goldenPath(dir, g.model);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(g, null, 1)}\n`);
  return file;
}

/** How two sets of outputs first differ (undefined when they agree within `tolerance`). */
export interface OutputDifference {
  /** Which output (0-based) and, for a value, which flat index in it. */
  output: number;
  index?: number;
  /** What differs, in words: `index 17: expected 0.78125, got 0.5`, `shape [1,2] vs [1,3]`. */
  what: string;
}

const num = (x: number) => (Number.isInteger(x) ? String(x) : String(Number(x.toPrecision(9))));

/**
 * The first difference between `expected` and `got`: output count, dtype, shape, value count,
 * then the first value that differs by more than `tolerance` (0: exact). NaN equals only NaN.
 */
export function firstDifference(expected: ModelOutputs, got: ModelOutputs, tolerance = 0): OutputDifference | undefined {
  if (expected.shape.length !== got.shape.length) return { output: 0, what: `${got.shape.length} outputs, expected ${expected.shape.length}` };
  for (let i = 0; i < expected.shape.length; i++) {
    if (expected.dtype[i] !== got.dtype[i]) return { output: i, what: `dtype '${got.dtype[i]}', expected '${expected.dtype[i]}'` };
    if (JSON.stringify(expected.shape[i]) !== JSON.stringify(got.shape[i])) return { output: i, what: `shape ${JSON.stringify(got.shape[i])}, expected ${JSON.stringify(expected.shape[i])}` };
    const e = expected.values[i] ?? [];
    const g = got.values[i] ?? [];
    const n = Math.min(e.length, g.length);
    for (let j = 0; j < n; j++) {
      const a = e[j]!;
      const b = g[j]!;
      const same = Number.isNaN(a) ? Number.isNaN(b) : Math.abs(a - b) <= tolerance;
      if (!same) return { output: i, index: j, what: `index ${j}: expected ${num(a)}, got ${num(b)}` };
    }
    if (e.length !== g.length) return { output: i, what: `${g.length} values compared, expected ${e.length}` };
  }
  return undefined;
}

/** The golden file's path as the scenario folder sees it (for messages). */
export function goldenName(scenarioDir: string, dir: string, model: string): string {
  return relative(scenarioDir, goldenPath(dir, model)) || goldenPath(dir, model);
}
