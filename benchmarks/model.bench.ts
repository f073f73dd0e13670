/**
 * Model parse speed (issue 14), run by `npm run bench` through benchmarks/index.ts. Over the four
 * fixture models (test/fixtures/models, 387 KB together), MB/s (10^6 bytes) of model bytes:
 *   - parseTflite alone (the flatbuffer's tables: a parse reads the tables, not the weights);
 *   - describeModel + checkModel for openmv-h7 (what `hil image verify` adds per model);
 * each the median of 15 interleaved rounds of enough passes to take >= 30 ms, next to sha256 of the same bytes
 * in the same run (node:crypto, which hashes every byte) as the reference.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { parseTflite } from '../harness/model/tflite.js';
import { describeModel, checkModel } from '../harness/model/check.js';
import { loadOpTable } from '../harness/model/opTable.js';
import { loadProfile } from '../harness/profile/profile.js';
import type { BenchContext, Figure } from './index.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * MB/s of each function over all models: 15 rounds, the functions interleaved within each round
 * (so a loaded machine slows them alike), each running enough passes for >= 30 ms; the median.
 */
function rates(models: Uint8Array[], fns: ((b: Uint8Array) => unknown)[]): number[] {
  const bytes = models.reduce((a, m) => a + m.length, 0);
  const passes = fns.map((fn) => {
    let n = 1;
    for (;;) {
      const t = performance.now();
      for (let p = 0; p < n; p++) for (const m of models) fn(m);
      if (performance.now() - t >= 30) return n;
      n *= 2;
    }
  });
  const rounds: number[][] = fns.map(() => []);
  for (let r = 0; r < 15; r++) {
    fns.forEach((fn, i) => {
      const t = performance.now();
      for (let p = 0; p < passes[i]!; p++) for (const m of models) fn(m);
      rounds[i]!.push((bytes * passes[i]!) / 1e6 / ((performance.now() - t) / 1000));
    });
  }
  return rounds.map(median);
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const dir = join(ctx.root, 'test/fixtures/models');
  const models = readdirSync(dir).filter((f) => f.endsWith('.tflite')).sort().map((f) => new Uint8Array(readFileSync(join(dir, f))));
  const total = models.reduce((a, m) => a + m.length, 0);
  const h7 = loadProfile('openmv-h7');
  const table = loadOpTable();
  // The checks must hold for what is timed: every fixture parses and passes on the H7.
  for (const m of models) {
    const c = checkModel(describeModel(m), h7, table);
    if (c.findings.length) throw new Error(`a fixture model fails the checks: ${c.findings[0]!.message}`);
  }
  const [sha, parse, check] = rates(models, [(b) => createHash('sha256').update(b).digest(), parseTflite, (b) => checkModel(describeModel(b), h7, table)]) as [number, number, number];
  ctx.log(`${models.length} models, ${total} bytes: parse ${parse.toFixed(0)} MB/s, describe+check ${check.toFixed(0)} MB/s, sha256 ${sha.toFixed(0)} MB/s`);
  const ref = { name: 'sha256 of the same bytes', value: sha, unit: 'MB/s' };
  return [
    { name: `TFLite parse, ${models.length} fixture models (${(total / 1000).toFixed(0)} KB)`, value: parse, unit: 'MB/s', reference: ref, ratio: parse / sha },
    { name: 'model describe + checks for openmv-h7 (verify\'s per-model cost)', value: check, unit: 'MB/s', reference: ref, ratio: check / sha },
  ];
}
