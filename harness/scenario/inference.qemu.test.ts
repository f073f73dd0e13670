/**
 * models.inference on OpenMV's own firmware for its QEMU board MPS2_AN500 (Cortex-M7, ml on
 * TensorFlow Lite Micro): a real predict, golden outputs recorded then compared, and the board's
 * HardFault on mpremote's image as the check's verdict with QEMU restarted. Needs a local build of
 * that firmware in HIL_OPENMV_QEMU_FIRMWARE (never committed); skipped with the reason without it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { openDevice } from '../device/openDevice.js';
import { loadScenario } from './loadScenario.js';
import { runScenario } from './runScenario.js';
import type { CheckResult, ScenarioResult } from './result.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const firmware = process.env.HIL_OPENMV_QEMU_FIRMWARE;
if (!firmware) console.log('inference.qemu.test: skipped: HIL_OPENMV_QEMU_FIRMWARE is not set (a local build of OpenMV firmware for MPS2_AN500)');
const maybe = firmware ? describe : describe.skip;

const byName = (r: ScenarioResult, name: string): CheckResult => r.checks.find((c) => c.name === name)!;

async function onQemu(scenarioDir: string, opts: { recordGolden?: boolean } = {}): Promise<ScenarioResult> {
  const device = await openDevice({ connection: 'qemu', profile: 'qemu-mps2-an500', firmware });
  try {
    return await runScenario(device, loadScenario(scenarioDir), { recordGolden: opts.recordGolden });
  } finally {
    await device.close();
  }
}

maybe('models.inference on OpenMV QEMU firmware (MPS2_AN500)', () => {
  it('model-load: a real predict PASSes with outputs and latency; --record-golden writes golden, the next run matches, a changed golden FAILs', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hil-inference-qemu-'));
    try {
      const dir = join(tmp, 'model-load');
      cpSync(join(root, 'scenarios/model-load'), dir, { recursive: true });
      // the copy's image path points back at images/demo
      writeFileSync(join(dir, 'scenario.yaml'), readFileSync(join(dir, 'scenario.yaml'), 'utf8').replace('../../images/demo', join(root, 'images/demo')));
      const first = await onQemu(dir);
      const inf = byName(first, 'models.inference');
      expect([inf.status, inf.reason]).toEqual(['passed', undefined]);
      const m = (inf.data as { models: { values: number[][]; latency: { firstMs: number; steadyMs: number } }[] }).models[0]!;
      expect(m.values[0]).toHaveLength(288);
      // fomo_face_detection on zeros: every cell "background" (the sum 143.4375)
      expect(m.values[0]!.reduce((a, b) => a + b, 0)).toBeCloseTo(143.4375, 3);
      expect(m.latency.firstMs).toBeGreaterThan(0);

      const rec = await onQemu(dir, { recordGolden: true });
      expect(byName(rec, 'models.inference').details).toContain('model.tflite: golden outputs recorded in golden/model.tflite.json');
      const again = await onQemu(dir);
      expect(byName(again, 'models.inference').details).toContain('model.tflite: outputs match golden/model.tflite.json exactly (recorded on mps2-an500 with Cortex-M7)');

      const file = join(dir, 'golden', 'model.tflite.json');
      const g = JSON.parse(readFileSync(file, 'utf8'));
      g.values[0][5] = 0.5;
      writeFileSync(file, JSON.stringify(g));
      const bad = byName(await onQemu(dir), 'models.inference');
      expect(bad.status).toBe('failed');
      expect(bad.reason).toMatch(/^model\.tflite: output 0 differs from golden\/model\.tflite\.json: index 5: expected 0\.5, got [\d.]+ \(exact\)$/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 240_000);

  it("mpremote's image: loading model.tflite HardFaults the firmware: FAIL with the console, QEMU restarted, the next check runs", async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hil-inference-qemu-'));
    try {
      writeFileSync(join(tmp, 'scenario.yaml'), `name: crash\nimage: { file: ${join(root, 'test/fixtures/romfs/demo.mpremote.img')} }\nchecks:\n  - models\n  - listing\n`);
      const r = await onQemu(tmp);
      expect(r.error).toBeUndefined();
      const inf = byName(r, 'models.inference');
      expect([inf.status, inf.reason, inf.failureClass]).toEqual(['failed', 'loading model.tflite crashed the board: HardFault exception caught:', 'product']);
      expect(inf.details).toContain('  CFSR.NOCP:        0 CFSR.UNALIGNED:  1 CFSR.DIVBYZERO: 0');
      expect(inf.details).toContain('  board recovered: QEMU restarted');
      // QEMU's ROMFS is RAM: the image lost with the restart is written again, so the listing sees it
      expect([byName(r, 'listing').status, byName(r, 'listing').reason]).toEqual(['passed', undefined]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 240_000);
});
