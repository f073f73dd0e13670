/**
 * Parser fuzz at full size (issue 6): HIL_FUZZ_CASES (default 100,000) seeded cases against the
 * strict ROMFS parser: mutations of every fixture image (harness/romfs/mutate.ts), random bytes,
 * and random bytes behind a valid magic header. Only RomfsFormatError may come out; every result's
 * entries must lie inside the input; the slowest case and heap growth are reported.
 * Reproduce a case from its seed and index (printed on failure).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, Figure } from './index.js';
import { parseRomfs } from '../harness/romfs/parse.js';
import { RomfsFormatError } from '../harness/romfs/errors.js';
import { mutateImage, seededRandom } from '../harness/romfs/mutate.js';

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const total = Number(process.env.HIL_FUZZ_CASES ?? 100_000);
  const seed = 20261125;
  const dir = join(ctx.root, 'test/fixtures/romfs');
  const seeds = readdirSync(dir).filter((f) => f.endsWith('.img')).map((f) => new Uint8Array(readFileSync(join(dir, f))));
  const rnd = seededRandom(seed);
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let heapMax = heap0;
  let typed = 0;
  let parsed = 0;
  let slowest = 0;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    let input: Uint8Array;
    const k = i % 10;
    if (k < 8) input = mutateImage(seeds[i % seeds.length]!, rnd);
    else {
      input = new Uint8Array(Math.floor(rnd() * 4096));
      for (let j = 0; j < input.length; j++) input[j] = Math.floor(rnd() * 256);
      if (k === 9 && input.length >= 3) input.set([0xd2, 0xcd, 0x31], 0);
    }
    const c0 = performance.now();
    try {
      const img = parseRomfs(input);
      for (const e of img.entries) {
        if (e.type === 'file' && (e.offset < 0 || e.offset + e.size > input.length)) throw new Error(`case ${i} (seed ${seed}): entry ${e.path} outside the input`);
      }
      parsed++;
    } catch (e) {
      if (!(e instanceof RomfsFormatError)) throw new Error(`case ${i} (seed ${seed}): ${(e as Error)?.name}: ${(e as Error)?.message}`);
      typed++;
    }
    slowest = Math.max(slowest, performance.now() - c0);
    if (i % 5000 === 0) heapMax = Math.max(heapMax, process.memoryUsage().heapUsed);
  }
  const elapsed = performance.now() - t0;
  gc?.();
  const growth = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  ctx.log(`${total} cases: ${typed} RomfsFormatError, ${parsed} parsed, slowest ${slowest.toFixed(1)} ms`);
  return [
    { name: 'parser fuzz cases', value: total, unit: 'cases', note: `${typed} typed errors, ${parsed} parsed, 0 other exceptions`, goal: '>= 100000', met: total >= 100_000 },
    { name: 'parser fuzz rate', value: total / (elapsed / 1000), unit: 'cases/s' },
    { name: 'parser fuzz slowest case', value: slowest, unit: 'ms', goal: '< 1000 ms (no hang)', met: slowest < 1000 },
    { name: 'parser fuzz heap growth', value: growth, unit: 'MiB', note: `peak ${((heapMax - heap0) / 2 ** 20).toFixed(1)} MiB above start`, goal: '< 64 MiB', met: growth < 64 },
  ];
}
