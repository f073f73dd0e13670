/**
 * The verdicts of verdicts.sim.test.ts on real MicroPython under qemu-system-arm (MPS2_AN385,
 * real VfsRom, real soft reset, no `ml`), when HIL_QEMU_FIRMWARE names a firmware built by the
 * user; skipped with the reason otherwise. Items 1, 2, 3 (board side), 11 of issue 11, and 12 (a 63-deep image,
 * which hil's old recursive listing could not walk here, and a stale image holding a name that is
 * not UTF-8), and 5 on a board without ml.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runScenarios } from '../bench/runScenarios.js';
import { openDevice } from '../device/openDevice.js';
import { loadScenario } from './loadScenario.js';
import { runScenario } from './runScenario.js';
import type { RunResult, ScenarioResult } from './result.js';
import { deepImage, exitTree, file, namespaceTree, romfsImage, scenarioWithImage, scenarioWithTree, warmImportTree } from '../../test/scenario/verdictCases.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const firmware = process.env.HIL_QEMU_FIRMWARE;
const why = !firmware ? 'HIL_QEMU_FIRMWARE is not set' : !existsSync(firmware) ? `HIL_QEMU_FIRMWARE=${firmware} does not exist` : '';
if (why) console.log(`verdicts.qemu.test: skipped: ${why}`);
const d = why ? describe.skip : describe;

// Made only when the tests run: Jest runs no afterAll in a file whose tests are all skipped,
// so a folder made for skipped tests would be left behind.
const tmp = why ? join(tmpdir(), 'hil-verdicts-qemu-skipped') : mkdtempSync(join(tmpdir(), 'hil-verdicts-qemu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const model = new Uint8Array(readFileSync(join(root, 'images/demo/model.tflite')));
const profile = 'qemu-mps2-an385';
const run = (scenario: string) => runScenarios({ scenarios: [scenario], device: 'qemu', profile, cwd: root, lockDir: join(tmp, 'locks') });
const checks = (r: RunResult) => r.devices[0]!.scenarios[0]!.checks;
const byName = (r: RunResult, name: string) => checks(r).find((c) => c.name === name)!;


/**
 * Run `scenario` with `flash: never` on a board that already holds `image` (put there when the
 * board starts): what the checks say about an image on a board, whatever hil's flash would accept.
 */
async function onBoardHolding(image: Uint8Array, scenario: string): Promise<ScenarioResult> {
  const device = await openDevice({ connection: 'qemu', profile: 'qemu-mps2-an385', image });
  try {
    return await runScenario(device, { ...loadScenario(scenario), flash: 'never' });
  } finally {
    await device.close();
  }
}

d('hil run verdicts on MicroPython under QEMU', () => {
  it('1: an entry point runs as on a fresh boot: `import mylib` does not bring mylib.helpers along', async () => {
    const r = await run(scenarioWithTree(join(tmp, 'warm'), warmImportTree, ['imports: { entryPoints: [app.run, mylib.version] }']));
    const imports = byName(r, 'imports');
    expect(imports.status).toBe('failed');
    expect(imports.reason).toMatch(/^app\.run\(\) raised: AttributeError: .*helpers/);
    expect(imports.details).toContain('mylib.version(): returned "1.0"');
  });

  it('2: a module in a folder without __init__ is imported (namespace package), so a broken one FAILs', async () => {
    const r = await run(scenarioWithTree(join(tmp, 'ns'), namespaceTree, ['imports']));
    const imports = byName(r, 'imports');
    expect(imports.status).toBe('failed');
    expect(imports.reason).toMatch(/^import drv\.cam failed: ImportError: no module named 'sensor_driver_that_is_not_there'/);
    expect(imports.details).toContain('import drv.ok: ok (/rom/lib/drv/ok.mpy)');
  });

  it('3: a main.py that does not compile, or whose imports fail on this board, FAILs naming the file and line', async () => {
    const img = romfsImage([file('main.py', 'import app\n\ndef loop(:\n    pass\n'), file('boot.py', 'import sys\nimport sensor\n'), file('app.py', 'X = 1\n')]);
    const r = await onBoardHolding(img, scenarioWithImage(join(tmp, 'mainpy'), img, ['imports']));
    expect(r.error).toBeUndefined();
    const imports = r.checks.find((c) => c.name === 'imports')!;
    expect(imports.status).toBe('failed');
    expect(imports.details.slice(0, 2)).toEqual([
      'main.py: does not compile on the board: line 3: SyntaxError: invalid syntax',
      "boot.py: line 2: import sensor fails on the board: ImportError: no module named 'sensor'",
    ]);
  });

  it('11: sys.exit() at import and KeyboardInterrupt/SystemExit in entry points FAIL the imports check; the other checks still run', async () => {
    const r = await run(scenarioWithTree(join(tmp, 'exit'), exitTree(model), ['listing', 'imports: { entryPoints: [app.run, app.stop] }', 'models']));
    expect(r.devices[0]!.scenarios[0]!.error).toBeUndefined();
    expect(checks(r).map((c) => [c.name, c.status])).toEqual([
      ['listing', 'passed'], ['imports', 'failed'], ['models.placement', 'passed'], ['models.inference', 'skipped'],
    ]);
    expect(byName(r, 'imports').details.slice(0, 3)).toEqual(['import quitter failed: SystemExit: 3', 'app.run() raised: KeyboardInterrupt:', 'app.stop() raised: SystemExit: 4']);
    expect(r.exitCode).toBe(1);
  });

  it('5: on a board without ml, a 0-byte or non-model file matching the model glob FAILs placement', async () => {
    const r = await run(scenarioWithTree(join(tmp, 'format'), { 'good.tflite': model, 'empty.tflite': new Uint8Array(0), 'labels.tflite': 'person\n' }, ['models']));
    const placement = byName(r, 'models.placement');
    expect(placement.status).toBe('failed');
    expect(placement.details).toContain("empty.tflite: 0 bytes: not a model (profile qemu-mps2-an385 runs TFLite models ('TFL3' at byte 4))");
    expect(placement.details).toContain("labels.tflite: not a model: neither a TFLite flatbuffer ('TFL3' at byte 4) nor an NBIN network ('NBIN' at byte 0)");
  });

  it('12: an image 63 folders deep is listed (hil walks it iteratively; recursion hit the limit here)', async () => {
    const r = await run(scenarioWithImage(join(tmp, 'deep'), deepImage(63), ['listing']));
    expect(checks(r).map((c) => [c.name, c.status, c.reason])).toEqual([['listing', 'passed', undefined]]);
  });

  it('12: a stale image holding a name that is not UTF-8 is a FAIL naming it (not an error), and the other checks still run', async () => {
    const stale = romfsImage([file('ok.txt', 'ok'), file(Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]), 'bad name')]);
    const device = await openDevice({ connection: 'qemu', profile, image: stale });
    try {
      const def = { ...loadScenario(scenarioWithTree(join(tmp, 'stale'), { 'app.py': 'X = 1\n' }, ['listing', 'imports'])), flash: 'never' as const };
      const r = await runScenario(device, def);
      expect(r.error).toBeUndefined();
      expect(r.checks.map((c) => [c.name, c.status])).toEqual([['listing', 'failed'], ['imports', 'failed']]);
      expect(r.checks[0]!.details).toContain('hex:636166e92e747874: name is not UTF-8 (os.listdir of its folder raises UnicodeError on the board)');
    } finally {
      await device.close();
    }
  });
});
