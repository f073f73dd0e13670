/**
 * `hil run scenarios/model-load` on real MicroPython under qemu-system-arm (MPS2_AN385), when
 * HIL_QEMU_FIRMWARE names a firmware built by the user; skipped with the reason otherwise.
 * Same pass and fail cases as on the sim; the first inference is SKIPPED (no `ml` module there).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runScenarios } from '../bench/runScenarios.js';
import type { RunResult } from './result.js';
import { linkStats, readTranscriptFile } from './linkStats.js';
import { unpackProgram } from '../device/sealed.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const firmware = process.env.HIL_QEMU_FIRMWARE;
const why = !firmware ? 'HIL_QEMU_FIRMWARE is not set' : !existsSync(firmware) ? `HIL_QEMU_FIRMWARE=${firmware} does not exist` : '';
if (why) console.log(`run.qemu.test: skipped: ${why}`);
const d = why ? describe.skip : describe;

// Made only when the tests run: Jest runs no afterAll in a file whose tests are all skipped,
// so a folder made for skipped tests would be left behind.
const tmp = why ? join(tmpdir(), 'hil-run-qemu-skipped') : mkdtempSync(join(tmpdir(), 'hil-run-qemu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const statuses = (r: RunResult) => Object.fromEntries(r.devices[0]!.scenarios[0]!.checks.map((c) => [c.name, c.status]));
const modelLoad = join(root, 'scenarios/model-load');
const opts = { scenarios: [modelLoad], device: 'qemu', profile: 'qemu-mps2-an385', cwd: root, lockDir: join(tmp, 'locks') };

d('hil run scenarios/model-load on MicroPython under QEMU', () => {
  it('passes with the image built from images/demo; the first inference is SKIPPED (no ml)', async () => {
    const outDir = join(tmp, 'out');
    const r = await runScenarios({ ...opts, outDir });
    expect(r.devices[0]!.error).toBeUndefined();
    expect(r.devices[0]!.scenarios[0]!.error).toBeUndefined();
    expect(statuses(r)).toEqual({ listing: 'passed', imports: 'passed', 'models.placement': 'passed', 'models.inference': 'skipped' });
    expect(r.devices[0]!.scenarios[0]!.checks[3]!.reason).toBe("no ml module on this firmware (no module named 'ml')");
    expect(r.exitCode).toBe(0);
    // What went over the link (issue 15): the board booted with the image, so the flash wrote
    // nothing and no soft reset came before the checks; the imports check's fresh boot and one per
    // entry point are the three soft reboots; each came back straight to the raw REPL (the one
    // Ctrl-C is the connect's); the board, which has no ml, was never sent the inference program.
    const recs = readTranscriptFile(join(outDir, 'qemu', 'transcript.txt'));
    // Packed programs shown as their code (device/sealed.ts).
    const tx = recs.filter((x) => x.dir === 'tx').map((x) => x.text).join('').split('\x05A\x01').map(unpackProgram).join('\x05A\x01');
    const link = linkStats(recs);
    expect(r.devices[0]!.scenarios[0]!.flash?.written).toBe(false);
    expect([link.softReboots, link.interrupts]).toEqual([3, 1]);
    expect(tx).toContain('import ml'); // placement asks
    expect(tx).not.toContain('ml.Model(');
  });

  it("fails with mpremote's image, naming model.tflite, its offset and its address", async () => {
    const r = await runScenarios({ ...opts, image: join(root, 'test/fixtures/romfs/demo.mpremote.img') });
    expect(statuses(r)).toEqual({ listing: 'passed', imports: 'passed', 'models.placement': 'failed', 'models.inference': 'skipped' });
    expect(r.devices[0]!.scenarios[0]!.checks[2]!.reason).toBe(
      'model.tflite: data at image offset 482 sits at address 0x210001e2, which is 2 mod 16: not 16-byte aligned as profile qemu-mps2-an385 requires for models',
    );
    expect(r.exitCode).toBe(1);
  });
});
