/**
 * The inference check's own cost (issue 14), run by `npm run bench` through benchmarks/index.ts:
 * models.inference (checks/inference.ts: the sealed board program per model, the console watch
 * for a fault banner, the golden and reverse-pass comparisons) against a bare `exec` of the same
 * board program (harness/board/scenario/inference.py with the same parameters, its answer
 * ignored) on the same board in the same run, for the same passes. On OpenMV's QEMU firmware
 * (HIL_OPENMV_QEMU_FIRMWARE, profile qemu-mps2-an500) when it is set, else on the simulated board
 * (openmv-h7); the figure's note says which.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDevice } from '../harness/device/openDevice.js';
import type { Device } from '../harness/device/types.js';
import { loadScenario, builtinScenarioDir } from '../harness/scenario/loadScenario.js';
import { resolveImage } from '../harness/scenario/resolveImage.js';
import { flashImage } from '../harness/flash/flashImage.js';
import { inferenceCheck, inferenceProbe } from '../harness/scenario/checks/inference.js';
import { modelFiles } from '../harness/scenario/checks/models.js';
import type { ModelsOptions } from '../harness/scenario/definition.js';
import type { Figure } from './index.js';

const root = dirname(builtinScenarioDir() ?? resolve(fileURLToPath(new URL('../scenarios', import.meta.url))));

interface Ctx {
  log?(line: string): void;
}

const ROUNDS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(ctx?: Ctx): Promise<Figure[]> {
  const log = (l: string) => ctx?.log?.(l);
  const tmp = mkdtempSync(join(tmpdir(), 'hil-inference-bench-'));
  const fw = process.env.HIL_OPENMV_QEMU_FIRMWARE;
  const on = fw ? 'OpenMV QEMU firmware, qemu-mps2-an500' : 'simulated board openmv-h7 (HIL_OPENMV_QEMU_FIRMWARE not set)';
  let device: Device | undefined;
  try {
    device = fw
      ? await openDevice({ connection: 'qemu', profile: 'qemu-mps2-an500', firmware: fw })
      : await openDevice({ connection: 'sim:openmv-h7', profile: 'openmv-h7' });
    const def = loadScenario(join(root, 'scenarios/model-load'));
    const image = await resolveImage(def.image, device.profile);
    log(`inference: flashing ${image.source} (${on})`);
    await flashImage(device, { image: image.bytes, imageName: image.source, allowMisaligned: true, onProgress: false });
    await device.softReset({ timeoutMs: 30_000 });
    const models = modelFiles(image.files, device.profile, image.bytes);
    const opts: ModelsOptions = {
      inference: true, outputShapes: {}, requireModels: true, inputs: {}, tolerance: {}, goldenDir: join(tmp, 'golden'), sequence: true, runs: 3,
    };
    const checkCtx = {
      device, profile: device.profile, image, scenario: def, simulatedBoard: !fw, timeoutMs: 120_000, log: () => undefined,
    };
    // The same programs the check sends: pass 1 (runs 3), then the reverse pass (runs 0) with 2+ models.
    const programs = models.map((m) => inferenceProbe(m.path, { kind: 'zeros' }, 3));
    if (models.length >= 2) programs.push(...[...models].reverse().map((m) => inferenceProbe(m.path, { kind: 'zeros' }, 0)));
    const check: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let t = performance.now();
      const r = await inferenceCheck(checkCtx, opts, models, async () => undefined);
      check.push(performance.now() - t);
      if (r.status === 'failed' || r.status === 'error') throw new Error(`models.inference ${r.status}: ${r.reason}`);
      t = performance.now();
      // bare: the board program as it is, unsealed, its answer dropped (a no-op `_hil_answer`)
      for (const p of programs) await device.execRaw(`def _hil_answer(v):\n    pass\n${p}`, { timeoutMs: 120_000 });
      bare.push(performance.now() - t);
    }
    const c = median(check);
    const b = median(bare);
    log(`inference: check ${c.toFixed(0)} ms, bare exec ${b.toFixed(0)} ms (median of ${ROUNDS}, ${models.length} model(s))`);
    return [
      {
        name: 'inference.check.ms', value: c, unit: 'ms', reference: { name: 'bare exec of the same board programs (unsealed)', value: b, unit: 'ms' }, ratio: c / b,
        note: `${on}; ${models.length} model(s), median of ${ROUNDS}`,
      },
      { name: 'inference.check.overhead.ms', value: c - b, unit: 'ms', note: `${on}: the check's own cost over the bare exec (sealing, console watch, judging)` },
    ];
  } finally {
    await device?.close().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  }
}
