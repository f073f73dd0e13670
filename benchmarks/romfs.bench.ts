/**
 * ROMFS image benchmarks (issue 2), run by `npm run bench` through benchmarks/index.ts.
 * A ~32 MiB tree (8 models of 4 MiB in sub-folders, labels, three .py modules) is generated in a
 * temp folder. Figures:
 *   - build throughput, MB/s (10^6 bytes) of model bytes: buildImage writing the image file
 *     (`outFile`, as `hil image build` does) with the image cache off (the .mpy cache warm); median of 3, next to a raw copy of the same
 *     files into one output file in the same run (same buffer size, read + positioned write, rename);
 *   - unchanged rebuild: buildImage of the unchanged tree to the same untouched output file with
 *     its caches (what `hil image build` does after node startup): inputs are stat'ed and
 *     fingerprinted, nothing is rewritten; median of 5. Goal <= 100 ms;
 *   - cold build including mpy-cross (WebAssembly) of the .py files, for information.
 */
import { mkdirSync, openSync, closeSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { buildImage } from '../harness/romfs/build.js';
import { rulesFromProfile } from '../harness/romfs/rules.js';
import { loadProfile } from '../harness/profile/profile.js';
import type { BenchContext, Figure } from './index.js';

const MODEL_BYTES = 4 * 1024 * 1024;
const MODELS = 8;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function makeTree(dir: string): { files: string[]; modelBytes: number } {
  const files: string[] = [];
  for (let i = 0; i < MODELS; i++) {
    const sub = join(dir, 'models', `set${i % 3}`);
    mkdirSync(sub, { recursive: true });
    const m = randomBytes(MODEL_BYTES);
    m.set([0x1c, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33]);
    const p = join(sub, `net${i}.int8.tflite`);
    writeFileSync(p, m);
    writeFileSync(join(sub, `net${i}.int8.txt`), `background\nclass${i}\n`);
    files.push(p, join(sub, `net${i}.int8.txt`));
  }
  mkdirSync(join(dir, 'app', 'lib'), { recursive: true });
  for (const [name, src] of [['main.py', 'import app.lib.util\nprint(app.lib.util.f(2))\n'], ['lib/util.py', 'def f(x):\n    return x * 2\n'], ['lib/__init__.py', '']]) {
    writeFileSync(join(dir, 'app', name!), src!);
    files.push(join(dir, 'app', name!));
  }
  return { files, modelBytes: MODELS * MODEL_BYTES };
}

/** The reference: the same files copied into one output file through one reused 4 MiB buffer (read + positioned write). */
function rawCopy(files: string[], dest: string): void {
  const buf = Buffer.allocUnsafeSlow(4 * 1024 * 1024);
  const tmp = `${dest}.tmp`;
  const out = openSync(tmp, 'w');
  let pos = 0;
  for (const f of files) {
    const fd = openSync(f, 'r');
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      pos += writeSync(out, buf, 0, n, pos);
    }
    closeSync(fd);
  }
  closeSync(out);
  renameSync(tmp, dest);
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const src = join(ctx.tmpDir, 'tree');
  const cacheDir = join(ctx.tmpDir, 'cache');
  const out = join(ctx.tmpDir, 'out.img');
  const { files, modelBytes } = makeTree(src);
  const rules = rulesFromProfile(loadProfile('openmv-n6'));
  const opts = { sourceDir: src, rules, cacheDir, outFile: out };

  let t = performance.now();
  const first = await buildImage(opts);
  const firstBytes = readFileSync(out);
  const cold = performance.now() - t;
  ctx.log(`cold build ${cold.toFixed(0)} ms, ${first.usage.used} bytes, ${first.compiled} compiled`);

  const buildMs: number[] = [];
  const copyMs: number[] = [];
  for (let i = 0; i < 3; i++) {
    t = performance.now();
    await buildImage({ ...opts, imageCache: false });
    buildMs.push(performance.now() - t);
    if (Buffer.compare(readFileSync(out), firstBytes) !== 0) throw new Error('rebuild gave different bytes');

    t = performance.now();
    rawCopy(files, join(ctx.tmpDir, 'copy.bin'));
    copyMs.push(performance.now() - t);
  }

  const rebuildMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    const r = await buildImage(opts);
    rebuildMs.push(performance.now() - t);
    if (!r.cached || r.written) throw new Error('unchanged rebuild did not use the image cache');
  }

  const mbps = (ms: number) => modelBytes / 1e6 / (ms / 1000);
  const build = mbps(median(buildMs));
  const copy = mbps(median(copyMs));
  const rebuild = median(rebuildMs);
  return [
    {
      name: `image build throughput, ${(modelBytes / 2 ** 20).toFixed(0)} MiB of models (image cache off)`,
      value: build,
      unit: 'MB/s',
      reference: { name: 'raw copy of the same files', value: copy, unit: 'MB/s' },
      ratio: build / copy,
      goal: '>= 200 MB/s',
      met: build >= 200,
    },
    { name: 'unchanged rebuild (stat + fingerprint, output untouched)', value: rebuild, unit: 'ms', goal: '<= 100 ms', met: rebuild <= 100 },
    { name: 'cold build incl. WebAssembly mpy-cross of 3 .py', value: cold, unit: 'ms' },
  ];
}
