/** Scenario definitions, module discovery and the placement verdict (pure parts, no board). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { loadProfile } from '../profile/profile.js';
import { loadScenario, parseScenario, resolveScenarioDir } from './loadScenario.js';
import { ScenarioConfigError } from './errors.js';
import { discoverModules } from './checks/imports.js';
import { judgePlacement, modelFiles, modelFormat } from './checks/models.js';
import { describeImage } from './resolveImage.js';
import { countChecks, exitCodeFor, type DeviceRunResult } from './result.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const tmp = mkdtempSync(join(tmpdir(), 'hil-scenario-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('scenario definitions', () => {
  it('loads the built-in model-load scenario by folder and by name', () => {
    const byPath = loadScenario('scenarios/model-load', root);
    const byName = loadScenario('model-load', root);
    expect(byName).toEqual(byPath);
    expect(byPath.name).toBe('model-load');
    expect(byPath.image).toEqual({ kind: 'source', path: join(root, 'images/demo') });
    expect(byPath.flash).toBe('auto');
    expect(byPath.checks.map((c) => c.kind)).toEqual(['listing', 'imports', 'models']);
    const imports = byPath.checks[1]!;
    expect(imports.kind === 'imports' && imports.options.entryPoints).toEqual([{ call: 'app.run', expect: 0.6 }, { call: 'mylib.version', expect: '1.0.0' }]);
  });

  it('finds user scenarios under ./scenarios next to the built-in ones', () => {
    mkdirSync(join(tmp, 'scenarios', 'mine'), { recursive: true });
    writeFileSync(join(tmp, 'scenarios', 'mine', 'scenario.json'), JSON.stringify({ image: 'x.img', checks: ['listing'] }));
    const s = loadScenario('mine', tmp);
    expect(s.name).toBe('mine');
    expect(s.image).toEqual({ kind: 'img', path: join(tmp, 'scenarios', 'mine', 'x.img') });
    expect(() => resolveScenarioDir('nothere', tmp)).toThrow(/scenario 'nothere' not found \(looked in /);
  });

  const bad: [string, unknown, RegExp][] = [
    ['no checks', { image: '.', checks: [] }, /field 'checks' must be a non-empty list/],
    ['unknown check', { image: '.', checks: ['listng'] }, /field 'checks\[0\]' names an unknown check 'listng'/],
    ['unknown option', { image: '.', checks: [{ models: { infer: true } }] }, /field 'checks\[0\]\.models\.infer' is not a known field/],
    ['bad entry point', { image: '.', checks: [{ imports: { entryPoints: ['run'] } }] }, /field 'checks\[0\]\.imports\.entryPoints\[0\]' must be 'module\.function'/],
    ['bad flash', { image: '.', flash: 'sometimes', checks: ['listing'] }, /field 'flash' must be auto, always or never/],
    ['two images', { image: { source: 'a', file: 'b' }, checks: ['listing'] }, /field 'image' must name exactly one of/],
    ['bad shapes', { image: '.', checks: [{ models: { outputShapes: { 'm.tflite': [1, 2] } } }] }, /outputShapes\.m\.tflite' must be a list of shapes/],
  ];
  it.each(bad)('refuses %s naming file and field', (_n, raw, msg) => {
    const f = join(tmp, 'scenario.yaml');
    let err: unknown;
    try {
      parseScenario(raw, f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioConfigError);
    expect((err as ScenarioConfigError).exitCode).toBe(2);
    expect((err as Error).message.startsWith(`${f}: `)).toBe(true);
    expect((err as Error).message).toMatch(msg);
  });

  it('refuses a YAML syntax error naming the file', () => {
    mkdirSync(join(tmp, 'broken'), { recursive: true });
    writeFileSync(join(tmp, 'broken', 'scenario.yaml'), 'checks: [listing\n');
    expect(() => loadScenario(join(tmp, 'broken'))).toThrow(new RegExp(`^${join(tmp, 'broken', 'scenario.yaml')}: not valid YAML`));
  });
});

describe('modules found in an image', () => {
  it('maps files to import names through /rom and /rom/lib, packages only where __init__ exists', () => {
    const files = ['app/__init__.py', 'app/util.py', 'lib/mylib/__init__.py', 'lib/mylib/helpers.mpy', 'lib/single.py', 'tools/x.py', 'main.py', 'my-mod.py', 'config.json'];
    const d = discoverModules(files.map((path) => ({ path })));
    expect(d.modules).toEqual(['app', 'app.util', 'mylib', 'mylib.helpers', 'single']);
    expect(d.ignored).toEqual([
      'tools/x.py: not inside a package (a folder on its path has no __init__)',
      'main.py: run by the firmware, not imported',
      'my-mod.py: not a valid module name',
    ]);
  });
});

describe('model placement verdict', () => {
  const img = new Uint8Array(readFileSync(join(root, 'test/fixtures/romfs/demo.mpremote.img')));
  const image = describeImage(img, 'demo.mpremote.img', 'img');
  const h7 = loadProfile('openmv-h7');

  it("names model.tflite, its offset, its address and the alignment found vs required for mpremote's image", () => {
    const models = modelFiles(image.files, h7);
    expect(models.map((m) => [m.path, m.offset])).toEqual([['model.tflite', 482]]);
    const address = h7.partition.origin + 482;
    const head = Buffer.from(img.subarray(482, 498)).toString('hex');
    const [f] = judgePlacement(models, [['model.tflite', address, head, null]], image.bytes, h7);
    expect(f!.problems).toEqual([
      `model.tflite: data at image offset 482 sits at address 0x081e01e2, which is 2 mod 16: not 16-byte aligned as profile openmv-h7 requires for models`,
    ]);
  });

  it('passes an aligned model and refuses bytes that are not the image model', () => {
    const models = [{ path: 'model.tflite', offset: 480, size: 57040, sha256: '' }];
    const bytes = new Uint8Array(1000);
    bytes.set(img.subarray(482, 482 + 16), 480);
    const ok = judgePlacement(models, [['model.tflite', h7.partition.origin + 480, Buffer.from(bytes.subarray(480, 496)).toString('hex'), null]], bytes, h7);
    expect(ok[0]!.problems).toEqual([]);
    const wrong = judgePlacement(models, [['model.tflite', h7.partition.origin + 480, '00'.repeat(16), null]], bytes, h7);
    expect(wrong[0]!.problems[0]).toMatch(/^model\.tflite: the bytes at 0x081e01e0 \(0000000000000000…\) are not the image's model/);
  });

  it('recognises TFLite and NBIN headers', () => {
    expect(modelFormat(img.subarray(482, 498))).toBe('tflite');
    expect(modelFormat(new TextEncoder().encode('NBIN....'))).toBe('nbin');
    expect(modelFormat(new Uint8Array(16))).toBeNull();
  });
});

describe('run verdicts', () => {
  const dev = (statuses: string[], error?: number): DeviceRunResult => ({
    device: 'd', connection: 'sim', profile: 'openmv-h7', simulated: true, durationMs: 1,
    scenarios: [{ scenario: 's', path: '/', device: 'd', profile: 'p', durationMs: 1, checks: statuses.map((s) => ({ name: s, status: s as 'passed', durationMs: 1, details: [] })) }],
    ...(error ? { error: { message: 'x', exitCode: error } } : {}),
  });
  it('maps results to exit codes: skipped/simulated do not fail, failures win over infrastructure', () => {
    expect(exitCodeFor([dev(['passed', 'skipped', 'simulated'])])).toBe(0);
    expect(exitCodeFor([dev(['passed', 'failed'])])).toBe(1);
    expect(exitCodeFor([dev(['passed']), dev([], 3)])).toBe(3);
    expect(exitCodeFor([dev(['failed']), dev([], 3)])).toBe(1);
    expect(exitCodeFor([dev(['error'])])).toBe(3);
    expect(exitCodeFor([dev([], 2)])).toBe(2);
    expect(countChecks([dev(['passed', 'simulated', 'skipped', 'failed'])])).toEqual({ passed: 1, failed: 1, skipped: 1, simulated: 1, error: 0, total: 4 });
  });
});
