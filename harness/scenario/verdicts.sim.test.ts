/**
 * Verdicts a freshly booted board would give (issue 11), on the simulated board (real MicroPython
 * in wasm behind a pty, soft reset = a new interpreter) through `hil run`'s code path:
 * entry points see a fresh boot's module table; folders without __init__ are imported as
 * namespace packages; main.py is compiled; custom check results are validated; placement judges
 * every model's format; sys.exit()/KeyboardInterrupt are the check's FAIL and the other checks
 * still run; a deep image is listed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { XMLParser } from 'fast-xml-parser';
import { runScenarios } from '../bench/runScenarios.js';
import { openDevice } from '../device/openDevice.js';
import { loadScenario } from './loadScenario.js';
import { runScenario } from './runScenario.js';
import { formatConsole } from '../report/console.js';
import { toJUnit } from '../report/junit.js';
import type { RunResult, ScenarioResult } from './result.js';
import { deepImage, exitTree, file, namespaceTree, romfsImage, scenarioWithImage, scenarioWithTree, warmImportTree } from '../../test/scenario/verdictCases.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const tmp = mkdtempSync(join(tmpdir(), 'hil-verdicts-sim-'));
const lockDir = join(tmp, 'locks');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const model = new Uint8Array(readFileSync(join(root, 'images/demo/model.tflite')));

const run = (scenario: string) => runScenarios({ scenarios: [scenario], device: 'sim:openmv-h7', cwd: root, lockDir });
const checks = (r: RunResult) => r.devices[0]!.scenarios[0]!.checks;
const byName = (r: RunResult, name: string) => checks(r).find((c) => c.name === name)!;


/**
 * Run `scenario` with `flash: never` on a board that already holds `image` (put there when the
 * board starts): what the checks say about an image on a board, whatever hil's flash would accept.
 */
async function onBoardHolding(image: Uint8Array, scenario: string): Promise<ScenarioResult> {
  const device = await openDevice({ connection: 'sim:openmv-h7', profile: 'openmv-h7', image });
  try {
    return await runScenario(device, { ...loadScenario(scenario), flash: 'never' }, { simulatedBoard: true });
  } finally {
    await device.close();
  }
}

describe('hil run verdicts on the simulated board', () => {
  it('1: an entry point runs as on a fresh boot: `import mylib` does not bring mylib.helpers along', async () => {
    const r = await run(scenarioWithTree(join(tmp, 'warm'), warmImportTree, ['imports: { entryPoints: [app.run, mylib.version] }']));
    const imports = byName(r, 'imports');
    expect(imports.status).toBe('failed');
    expect(imports.reason).toMatch(/^app\.run\(\) raised: AttributeError: .*helpers/);
    expect(imports.details).toContain('mylib.version(): returned "1.0"');
    // The modules themselves import (discovery imported mylib.helpers too).
    expect(imports.details).toContain('import mylib.helpers: ok (/rom/lib/mylib/helpers.mpy)');
    expect(r.exitCode).toBe(1);
  });

  it('1: where an import replaces sys.path (the table cannot be put back), each module is imported after its own soft reset', async () => {
    const r = await run(scenarioWithTree(join(tmp, 'swap'), {
      'lib/aaswap.py': 'import sys\nsys.path = ["/nowhere"]\n',
      'lib/zzneeds.py': 'import helper\n',
      'lib/helper.py': 'X = 1\n',
    }, ['imports']));
    const imports = byName(r, 'imports');
    expect([imports.status, imports.reason]).toEqual(['passed', undefined]);
    expect(imports.details).toContain('the module table could not be put back between imports: each module was imported after its own soft reset');
    expect(imports.details).toContain('import zzneeds: ok (/rom/lib/zzneeds.mpy)');
  });

  it('2: a module in a folder without __init__ is imported (namespace package), so a broken one FAILs', async () => {
    const r = await run(scenarioWithTree(join(tmp, 'ns'), namespaceTree, ['imports']));
    const imports = byName(r, 'imports');
    expect(imports.status).toBe('failed');
    expect(imports.reason).toBe("import drv.cam failed: ImportError: no module named 'sensor_driver_that_is_not_there'");
    expect(imports.details).toContain('import drv.ok: ok (/rom/lib/drv/ok.mpy)');
  });

  it('3: a main.py that does not compile is a FAIL naming the file and line; boot.py is compiled too', async () => {
    const img = romfsImage([
      file('main.py', 'import app\n\ndef loop(:\n    pass\n'),
      file('boot.py', 'import sys\nimport broken\nimport sensor\n'),
      file('app.py', 'X = 1\n'),
      file('broken.py', 'raise ValueError("broken")\n'),
    ]);
    const r = await onBoardHolding(img, scenarioWithImage(join(tmp, 'mainpy'), img, ['imports']));
    expect(r.error).toBeUndefined();
    const imports = r.checks.find((c) => c.name === 'imports')!;
    expect(imports.status).toBe('failed');
    expect(imports.details.slice(0, 3)).toEqual([
      'import broken failed: ValueError: broken',
      'main.py: does not compile on the board: line 3: SyntaxError: invalid syntax',
      'boot.py: line 2: import broken fails on the board: ValueError: broken',
    ]);
    expect(imports.details).toContain('boot.py: compiles on the board (a main or boot script, not imported)');
    expect(imports.details).toContain('main.py: line 1: import app works on the board');
    expect(imports.details).toContain("boot.py: line 3: import sensor fails on the simulated board (ImportError: no module named 'sensor'); not judged here");
  });

  it('4: a custom check result with an unknown status, a malformed one or none at all is ERR naming the module; the rest still run', async () => {
    const dir4 = join(tmp, 'custom');
    const mods: Record<string, string> = {
      'lower.mjs': "export async function check() { return { name: 'lower', status: 'fail', reason: 'x' }; }",
      'upper.mjs': "export async function check() { return { name: 'upper', status: 'FAIL' }; }",
      'ok.mjs': "export async function check() { return [{ name: 'ok', status: 'ok' }]; }",
      'empty.mjs': 'export async function check() { return []; }',
      'text.mjs': "export async function check() { return 'passed'; }",
      'details.mjs': "export async function check() { return { status: 'passed', details: 'all fine' }; }",
      'throws.mjs': "export async function check() { throw new TypeError('oops'); }",
      'good.mjs': "export async function check() { return { name: 'good', status: 'passed', details: ['fine'] }; }",
    };
    scenarioWithTree(dir4, { 'app.py': 'X = 1\n' }, [...Object.keys(mods).map((m) => `module: ./${m}`), 'listing']);
    for (const [f, src] of Object.entries(mods)) writeFileSync(join(dir4, f), src);
    const r = await run(dir4);
    const got = checks(r).map((c) => [c.name, c.status, c.reason]);
    const p = (f: string) => join(dir4, f);
    expect(got).toEqual([
      ['module:lower.mjs', 'error', `${p('lower.mjs')}: result has status "fail", not one of passed, failed, skipped, simulated, error`],
      ['module:upper.mjs', 'error', `${p('upper.mjs')}: result has status "FAIL", not one of passed, failed, skipped, simulated, error`],
      ['module:ok.mjs', 'error', `${p('ok.mjs')}: result 0 has status "ok", not one of passed, failed, skipped, simulated, error`],
      ['module:empty.mjs', 'error', `${p('empty.mjs')}: check returned no results (an empty list)`],
      ['module:text.mjs', 'error', `${p('text.mjs')}: result is not an object (got string)`],
      ['module:details.mjs', 'error', `${p('details.mjs')}: result has details that are not a list of strings`],
      ['module:throws.mjs', 'error', `${p('throws.mjs')}: check threw TypeError: oops`],
      ['good', 'passed', undefined],
      ['listing', 'passed', undefined],
    ]);
    expect(r.exitCode).toBe(3);
    expect(r.counts).toMatchObject({ passed: 2, error: 7, total: 9 });
    const text = formatConsole(r, { colour: false });
    expect(text).not.toMatch(/undefined/);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(toJUnit(r));
    expect(doc.testsuites.errors).toBe('7');
  });

  it('5: placement judges every model file: 0 bytes, not a model, or the wrong format for the profile FAIL', async () => {
    const nbin = Buffer.concat([Buffer.from('NBIN'), Buffer.alloc(60, 1)]);
    const r = await run(scenarioWithTree(join(tmp, 'format'), {
      'good.tflite': model, 'empty.tflite': new Uint8Array(0), 'labels.tflite': 'person\nno person\n', 'net.tflite': nbin,
    }, ['models']));
    expect(r.devices[0]!.scenarios[0]!.error).toBeUndefined();
    const placement = byName(r, 'models.placement');
    expect(placement.status).toBe('failed');
    const problems = placement.details.filter((d) => !/: offset \d+, address /.test(d));
    expect(problems).toEqual([
      'empty.tflite: 0 bytes: not a model (profile openmv-h7 runs TFLite models (\'TFL3\' at byte 4))',
      "labels.tflite: not a model: neither a TFLite flatbuffer ('TFL3' at byte 4) nor an NBIN network ('NBIN' at byte 0)",
      "net.tflite: is an ST NBIN network ('NBIN' at byte 0), but profile openmv-h7 runs only TFLite models ('TFL3' at byte 4)",
    ]);
    // the two that are files with bytes are loaded, as a board would: ml refuses both
    const inf = byName(r, 'models.inference');
    expect(inf.status).toBe('failed');
    expect(inf.details.slice(0, 2)).toEqual(['labels.tflite: ml.Model() failed: ValueError: Unsupported model schema', 'net.tflite: ml.Model() failed: ValueError: Unsupported model schema']);
  });

  it('5: on the N6 (ST NBIN only) a TFLite model FAILs placement, naming the format the profile requires', async () => {
    const r = await runScenarios({ scenarios: [scenarioWithTree(join(tmp, 'n6'), { 'model.tflite': model }, ['models'])], device: 'sim:openmv-n6', cwd: root, lockDir });
    expect(r.devices[0]!.scenarios[0]!.error).toBeUndefined();
    const placement = byName(r, 'models.placement');
    expect([placement.status, placement.reason]).toEqual(['failed', "model.tflite: is a TFLite model ('TFL3' at byte 4), but profile openmv-n6 runs only ST NBIN networks ('NBIN' at byte 0)"]);
  });

  it('11: sys.exit() at import and KeyboardInterrupt/SystemExit in entry points FAIL the imports check; the other checks still run', async () => {
    const r = await run(scenarioWithTree(join(tmp, 'exit'), exitTree(model), ['listing', 'imports: { entryPoints: [app.run, app.stop] }', 'models']));
    expect(r.devices[0]!.scenarios[0]!.error).toBeUndefined();
    expect(checks(r).map((c) => [c.name, c.status])).toEqual([
      ['listing', 'passed'], ['imports', 'failed'], ['models.placement', 'passed'], ['models.inference', 'simulated'],
    ]);
    const imports = byName(r, 'imports');
    expect(imports.details.slice(0, 3)).toEqual(['import quitter failed: SystemExit: 3', 'app.run() raised: KeyboardInterrupt:', 'app.stop() raised: SystemExit: 4']);
    expect(r.devices[0]!.scenarios[0]!.error).toBeUndefined();
    expect(r.exitCode).toBe(1);
  });

  it('12: an image 63 folders deep is listed (hil walks it iteratively)', async () => {
    const r = await run(scenarioWithImage(join(tmp, 'deep'), deepImage(63), ['listing']));
    expect(checks(r).map((c) => [c.name, c.status, c.reason])).toEqual([['listing', 'passed', undefined]]);
    expect(byName(r, 'listing').details).toEqual(['1 files and 63 directories match (names, sizes, sha256 computed on the board)']);
  });

  it('listing expects what the firmware lists: a file record with no data stops the firmware listing: a FAIL naming the file', async () => {
    const r = await run(scenarioWithImage(join(tmp, 'nodata'), romfsImage([file('ok.txt', 'ok'), file('nodata.txt', null)]), ['listing']));
    const err = r.devices[0]!.scenarios[0]!.error;
    if (err) {
      // A strict parse that refuses such an image (exit 2, naming the file, before the board is
      // touched) is the other right answer; never a pass.
      expect([err.exitCode, err.phase]).toEqual([2, 'image']);
      expect(err.message).toMatch(/nodata\.txt/);
      return;
    }
    const listing = byName(r, 'listing');
    expect(listing.status).toBe('failed');
    expect(listing.details).toContain("nodata.txt: in the image's records, but the firmware does not list it (its folder's listing stops before it)");
  });
});
