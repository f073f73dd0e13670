/**
 * models.inference on the simulated board (real MicroPython in wasm behind a pty), whose `ml`
 * gives the outcomes a cam gives for a model's bytes and address (harness/board/sim/ml.py):
 * a board crashed by a model is the check's FAIL with the console text, the board is brought back
 * and the run goes on; a model aligned to 4 runs on a CPU board; the NPUs' own errors (Ethos-U on
 * the AE3, ST Edge AI on the N6); a model running another model's network (the stale-cache class)
 * is caught by the reverse pass; --record-golden refuses the simulated board.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runScenarios } from '../bench/runScenarios.js';
import { openDevice } from '../device/openDevice.js';
import { startSim } from '../sim/startSim.js';
import { readModelIo } from '../model/io.js';
import { parseRomfs } from '../romfs/parse.js';
import { loadScenario } from './loadScenario.js';
import { runScenario } from './runScenario.js';
import type { CheckResult, RunResult } from './result.js';
import { file, romfsImage, scenarioWithImage, scenarioWithTree } from '../../test/scenario/verdictCases.js';
import { oneOpModel } from '../../test/scenario/tinyTflite.js';
import { SILENT_FAULT_HANDLERS } from './checks/crash.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const tmp = mkdtempSync(join(tmpdir(), 'hil-inference-sim-'));
const lockDir = join(tmp, 'locks');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const fixture = (n: string) => new Uint8Array(readFileSync(join(root, 'test/fixtures/models', n)));
const mpremoteImage = join(root, 'test/fixtures/romfs/demo.mpremote.img');

const checks = (r: RunResult) => r.devices[0]!.scenarios[0]!.checks;
const byName = (r: RunResult, name: string): CheckResult => checks(r).find((c) => c.name === name)!;
const run = (scenario: string, device: string) => runScenarios({ scenarios: [scenario], device, cwd: root, lockDir });

/** An image (hil's ROMFS records, like mpremote's: no alignment) whose `model` data starts at `mod` modulo 16. */
function imageWithModelAt(mod: number, model: Uint8Array, name = 'model.tflite'): Uint8Array {
  for (let pad = 0; pad < 64; pad++) {
    const img = romfsImage([file('pad.txt', 'x'.repeat(pad)), file(name, model)]);
    const e = parseRomfs(img).entries.find((x) => x.path === name);
    if (e && e.type === 'file' && e.offset % 16 === mod) return img;
  }
  throw new Error(`no padding puts ${name} at ${mod} mod 16`);
}

describe('a model that crashes the board', () => {
  it("mpremote's image on an H7: loading model.tflite (per-channel convolutions, 2 mod 4) resets the board silently (stm32's HardFault handler): FAIL 'reset the board' with the console, not an infra error; the next check runs", async () => {
    const dir = scenarioWithImage(join(tmp, 'crash-h7'), new Uint8Array(readFileSync(mpremoteImage)), ['models', 'listing']);
    const r = await run(dir, 'sim:openmv-h7');
    expect(r.devices[0]!.scenarios[0]!.error).toBeUndefined();
    expect(checks(r).map((c) => [c.name, c.status])).toEqual([['models.placement', 'failed'], ['models.inference', 'failed'], ['listing', 'passed']]);
    const inf = byName(r, 'models.inference');
    expect([inf.reason, inf.failureClass]).toEqual(['loading model.tflite reset the board', 'product']);
    // seen on the console (the board's boot banner reached the reopened pty), or from its uptime
    expect(inf.details[1]).toMatch(/^loading model\.tflite reset the board \((?:uptime \d+ ms when it answered again, \d+ ms as loading began|MicroPython v\S+ on .+)\); console:$/);
    expect(inf.details[2]).toMatch(/^ {2}hil: loading model\.tflite \(uptime \d+ ms\)$/);
    expect(inf.details).toContain('  board recovered: it rebooted by itself and answers again');
    const m = (inf.data as { models: { crashed: { stage: string; kind: string; console: string[] } }[] }).models[0]!;
    expect([m.crashed.stage, m.crashed.kind]).toEqual(['loading', 'reset']);
    expect(m.crashed.console.join('\n')).not.toMatch(/HardFault/); // nothing printed: the MCU reset at once
    expect(r.exitCode).toBe(1);
  });

  it('the same over TCP, the link dropping with the reset and the board back only after longer than one connect takes (a loaded host, a cam re-enumerating): FAIL "reset the board"; the next check and the next scenario run', async () => {
    // The sim's TCP port keeps accepting while the board is away (as ser2net does), so the first
    // reconnect reaches no board; 16 s is past one connect's own budget (15 s), which is what a
    // loaded host made of the sim's restart when this test ended without a models.inference.
    const sim = await startSim({ profile: 'openmv-h7', link: 'tcp', image: new Uint8Array(readFileSync(mpremoteImage)), resetDelayMs: 16_000 });
    try {
      const device = await openDevice({ connection: sim.connection, profile: 'openmv-h7' });
      try {
        const dir = scenarioWithImage(join(tmp, 'crash-h7-tcp'), new Uint8Array(readFileSync(mpremoteImage)), ['models', 'listing']);
        const r = await runScenario(device, loadScenario(dir), { simulatedBoard: true });
        expect(r.error).toBeUndefined();
        expect(r.checks.map((c) => [c.name, c.status])).toEqual([['models.placement', 'failed'], ['models.inference', 'failed'], ['listing', 'passed']]);
        const inf = r.checks.find((c) => c.name === 'models.inference')!;
        expect([inf.reason, inf.failureClass]).toEqual(['loading model.tflite reset the board', 'product']);
        // the link dropped at once (nothing printed): seen from the mark gone from the board's RAM
        // (its uptime may well be more than before: it was up for less than it took to answer again)
        expect(inf.details[1]).toMatch(/^loading model\.tflite reset the board \(the mark hil left in its RAM before loading is gone: it rebooted; uptime \d+ ms when it answered again, \d+ ms as loading began\); console:$/);
        expect(inf.details).toContain('  board recovered: it rebooted by itself and answers again');
        const next = scenarioWithImage(join(tmp, 'after-h7-tcp'), new Uint8Array(readFileSync(mpremoteImage)), ['listing']);
        const r2 = await runScenario(device, loadScenario(next), { simulatedBoard: true });
        expect([r2.error, r2.checks.map((c) => [c.name, c.status])]).toEqual([undefined, [['listing', 'passed']]]);
      } finally {
        await device.close();
      }
    } finally {
      await sim.stop();
    }
  }, 120_000);

  it("on the qemu personality the banner is the qemu port's errorhandler's", async () => {
    const dir = scenarioWithImage(join(tmp, 'crash-qemu'), new Uint8Array(readFileSync(mpremoteImage)), ['models']);
    const r = await run(dir, 'sim:qemu-mps2-an500');
    const inf = byName(r, 'models.inference');
    expect([inf.status, inf.reason]).toEqual(['failed', 'loading model.tflite crashed the board: HardFault exception caught:']);
    expect(inf.details).toContain('  CFSR.NOCP:        0 CFSR.UNALIGNED:  1 CFSR.DIVBYZERO: 0');
  });

  // OpenMV's AE3 and RT1062 firmware: the fault handler prints nothing and spins until reset
  // (crash.ts SILENT_FAULT_HANDLERS, harness/board/sim/ml.py _fault_text).
  for (const [profile, port] of [['openmv-ae3', 'alif'], ['openmv-rt1062', 'mimxrt']] as const) {
    it(`${profile}: the model's HardFault prints nothing and hangs the board: FAIL 'crashed the board' with the console, the board power-cycled, the next check runs`, async () => {
      const dir = scenarioWithImage(join(tmp, `crash-${port}`), new Uint8Array(readFileSync(mpremoteImage)), ['models', 'listing']);
      writeFileSync(join(dir, 'scenario.yaml'), `${readFileSync(join(dir, 'scenario.yaml'), 'utf8')}checkTimeoutMs: 4000\n`);
      const r = await run(dir, `sim:${profile}`);
      expect(r.devices[0]!.scenarios[0]!.error).toBeUndefined();
      expect(checks(r).map((c) => [c.name, c.status])).toEqual([['models.placement', 'failed'], ['models.inference', 'failed'], ['listing', 'passed']]);
      const inf = byName(r, 'models.inference');
      expect(inf.failureClass).toBe('product');
      expect(inf.reason).toBe(`loading model.tflite crashed the board: no answer since the check began loading it, nothing printed (${port}'s fault handler prints nothing and spins: ${SILENT_FAULT_HANDLERS[port]})`);
      const m = (inf.data as { models: { crashed: { stage: string; kind: string; console: string[]; recovery: { how: string } } }[] }).models[0]!;
      expect([m.crashed.stage, m.crashed.kind, m.crashed.recovery.how]).toEqual(['loading', 'fault', 'power-cycled']);
      // the console: the check's own line, and nothing after it (no stm32 register dump)
      expect(m.crashed.console).toEqual([expect.stringMatching(/^hil: loading model\.tflite \(uptime \d+ ms\)$/)]);
      expect(inf.details).toEqual(expect.arrayContaining([expect.stringMatching(/^ {2}hil: loading model\.tflite \(uptime \d+ ms\)$/), '  board recovered: power-cycled']));
    }, 60_000);
  }

  it('a model without convolutions (force_int_quant) at 2 mod 4 loads and runs: SIM, placement still FAILs', async () => {
    const dir = scenarioWithImage(join(tmp, 'fiq'), imageWithModelAt(2, fixture('force_int_quant.tflite')), ['models']);
    const r = await run(dir, 'sim:openmv-h7');
    expect(checks(r).map((c) => [c.name, c.status])).toEqual([['models.placement', 'failed'], ['models.inference', 'simulated']]);
  });

  it('a model aligned to 4 but not to 16 runs on the H7 (only an NPU needs more); placement still FAILs', async () => {
    const dir = scenarioWithImage(join(tmp, 'four'), imageWithModelAt(4, fixture('micro_speech.tflite')), ['models']);
    const r = await run(dir, 'sim:openmv-h7');
    expect(r.devices[0]!.scenarios[0]!.error).toBeUndefined();
    expect(checks(r).map((c) => [c.name, c.status])).toEqual([['models.placement', 'failed'], ['models.inference', 'simulated']]);
    expect(byName(r, 'models.inference').details[0]).toMatch(/^model\.tflite: input zeros \[\[1,1960\]\] -> output \[\[1,4\]\] .*first inference [\d.]+ ms, steady/);
  });
});

describe('NPU errors', () => {
  const ethos = oneOpModel({ custom: 'ethos-u' }, [1, 4], [1, 2]);
  it('the test model is read as compiled for Ethos-U', () => {
    expect(readModelIo(ethos)).toEqual({ inputs: [{ shape: [1, 4], dtype: 'b', bytes: 4 }], outputs: [{ shape: [1, 2], dtype: 'b', bytes: 2 }], version: 3, perChannelConv: false, ethosU: true });
  });

  it("AE3: an Ethos-U model at 4 mod 16 fails to invoke (ValueError: Invoke failed); aligned it runs", async () => {
    const bad = await run(scenarioWithImage(join(tmp, 'ae3-bad'), imageWithModelAt(4, ethos), ['models']), 'sim:openmv-ae3');
    expect(byName(bad, 'models.inference').reason).toBe('model.tflite: first inference failed: ValueError: Invoke failed');
    const img = imageWithModelAt(0, ethos);
    const good = await run(scenarioWithImage(join(tmp, 'ae3-good'), img, ['models']), 'sim:openmv-ae3');
    expect(checks(good).map((c) => c.status)).toEqual(['passed', 'simulated']);
  });

  it('AE3: a model not compiled for Ethos-U at 4 mod 16 runs on the CPU', async () => {
    const r = await run(scenarioWithImage(join(tmp, 'ae3-cpu'), imageWithModelAt(4, fixture('micro_speech.tflite')), ['models']), 'sim:openmv-ae3');
    expect(byName(r, 'models.inference').status).toBe('simulated');
  });

  it('N6: a TFLite model and a misaligned NBIN network fail to load (RuntimeError: Failed to load network)', async () => {
    const tfl = await run(scenarioWithImage(join(tmp, 'n6-tfl'), imageWithModelAt(0, fixture('force_int_quant.tflite')), ['models']), 'sim:openmv-n6');
    expect(byName(tfl, 'models.inference').reason).toBe('model.tflite: ml.Model() failed: RuntimeError: Failed to load network');
    const nbin = Uint8Array.from([...Buffer.from('NBIN'), ...new Uint8Array(60)]);
    const mis = await run(scenarioWithImage(join(tmp, 'n6-mis'), imageWithModelAt(8, nbin, 'net.bin'), ['models']), 'sim:openmv-n6');
    expect(byName(mis, 'models.inference').reason).toBe('net.bin: ml.Model() failed: RuntimeError: Failed to load network');
  });
});

describe('the reverse pass', () => {
  const twoModels = { 'a.tflite': fixture('force_int_quant.tflite'), 'b.tflite': fixture('micro_speech.tflite') };
  it("a model running the previously loaded model's network (stale-cache class, openmv PR 3276) is FAIL naming the model and its predecessor", async () => {
    const sim = await startSim({ profile: 'openmv-h7', mlFault: 'stale' });
    try {
      const device = await openDevice({ connection: sim.connection, profile: 'openmv-h7' });
      try {
        // hil builds (aligned) and flashes the image
        const r = await runScenario(device, loadScenario(scenarioWithTree(join(tmp, 'stale'), twoModels, ['models'])), { simulatedBoard: true });
        const inf = r.checks.find((c) => c.name === 'models.inference')!;
        expect(inf.status).toBe('failed');
        // pass 1: a, then b running a's network; pass 2: b (after b: its own), then a (after b: b's)
        expect(inf.reason).toMatch(/^b\.tflite: outputs differ between passes \(alone, then first of the reverse pass\): output 0 index 0: expected [\d.]+, got [\d.]+ \(a model running another's network: stale-cache class, openmv PR 3276\) \(and 1 more\)$/);
        expect(inf.details[1]).toMatch(/^a\.tflite: outputs differ between passes \(alone, then after b\.tflite\)/);
      } finally {
        await device.close();
      }
    } finally {
      await sim.stop();
    }
  });

  it('without the fault both passes agree', async () => {
    const r = await run(scenarioWithTree(join(tmp, 'fresh'), twoModels, ['models']), 'sim:openmv-h7');
    const inf = byName(r, 'models.inference');
    expect(inf.status).toBe('simulated');
    expect(inf.details).toContain('reverse pass (b.tflite, a.tflite): 2 of 2 models gave the same outputs as alone');
  });
});

describe('hil run --record-golden', () => {
  it('refuses the simulated board before touching it (exit 2, nothing written)', () => {
    const r = spawnSync(process.execPath, [join(root, 'bin/hil.js'), 'run', 'scenarios/model-load', '--device', 'sim:openmv-h7', '--record-golden'], { cwd: root, encoding: 'utf8', env: { ...process.env, HIL_LOCK_DIR: lockDir } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--record-golden: sim:openmv-h7 is a simulated board, which runs no network; record golden outputs on a real board \(--device\)/);
  });
});
