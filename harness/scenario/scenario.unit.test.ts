/** Scenario definitions, module discovery and the placement verdict (pure parts, no board). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { loadProfile } from '../profile/profile.js';
import { loadScenario, parseScenario, resolveScenarioDir } from './loadScenario.js';
import { ScenarioConfigError } from './errors.js';
import { checkOthers, compileProblem, discoverModules, topLevelImports } from './checks/imports.js';
import type { CheckContext } from './context.js';
import { file, romfsImage } from '../../test/scenario/verdictCases.js';
import { formatProblem, judgePlacement, modelFiles, modelFormat } from './checks/models.js';
import { describeImage } from './resolveImage.js';
import { firmwareView } from '../romfs/firmwareView.js';
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
  it('maps files to import names through /rom and /rom/lib; folders without __init__ are namespace packages', () => {
    const files = ['app/__init__.py', 'app/util.py', 'lib/mylib/__init__.py', 'lib/mylib/helpers.mpy', 'lib/single.py', 'tools/x.py', 'lib/drv/cam.py', 'main.py', 'boot.mpy', 'my-mod.py', '__init__.py', 'config.json'];
    const d = discoverModules(files.map((path) => ({ path })));
    expect(d.modules).toEqual(['app', 'app.util', 'drv.cam', 'mylib', 'mylib.helpers', 'single', 'tools.x']);
    expect(d.compileOnly).toEqual([
      { path: 'main.py', why: 'a main or boot script, not imported' },
      { path: 'my-mod.py', why: 'not a valid module name' },
      { path: '__init__.py', why: 'package initialiser at the search-path root' },
    ]);
    expect(d.mpyOnly).toEqual([{ path: 'boot.mpy', why: 'a main or boot script, not imported' }]);
  });

  it("reads a script's top-level imports without running it (not the indented, conditional ones)", () => {
    const src = 'import sensor, time as t\nfrom mylib.helpers import threshold  # comment\nfrom . import x\ntry:\n    import optional\nexcept ImportError:\n    pass\nimport a.b;\n';
    expect(topLevelImports('main.py', src)).toEqual([['main.py', 1, 'sensor'], ['main.py', 1, 'time'], ['main.py', 2, 'mylib.helpers'], ['main.py', 8, 'a.b']]);
  });

  it('compiles with mpy-cross where the board has no compile(), and checks a main.mpy header against the board', async () => {
    const image = describeImage(romfsImage([file('main.py', 'def f(:\n'), file('boot.py', 'x = 1\n'), file('main.mpy', Uint8Array.of(0x4d, 5, 0, 31))]), 'x.img', 'img');
    const found = discoverModules(image.files);
    const ctx = { image, profile: loadProfile('openmv-h7'), simulatedBoard: false } as unknown as CheckContext;
    const others = await checkOthers(ctx, found, { path: [], clean: true, mods: [], scripts: [], compiled: null, mpy: 6 | (8 << 10) });
    expect(others.map(([p, problem]) => [p, problem?.replace(/: .*$/s, ': …')])).toEqual([
      ['main.py', 'does not compile (mpy-cross; the board has no compile()): …'],
      ['boot.py', undefined],
      ['main.mpy', 'would not import on the board: …'],
    ]);
    expect(others[1]![2]).toBe('compiles with mpy-cross (the board has no compile(); a main or boot script, not imported)');
    expect(others[2]![1]).toBe('would not import on the board: .mpy version 5, firmware loads version 6');
  });

  it('names file and line of a compile error', () => {
    expect(compileProblem('Traceback (most recent call last):\n  File "/rom/main.py", line 3\nSyntaxError: invalid syntax\n')).toBe('line 3: SyntaxError: invalid syntax');
  });
});

describe('model placement verdict', () => {
  const img = new Uint8Array(readFileSync(join(root, 'test/fixtures/romfs/demo.mpremote.img')));
  const image = describeImage(img, 'demo.mpremote.img', 'img');
  const h7 = loadProfile('openmv-h7');

  it("carries the firmware's view and the flash's strict check of the image, made once for all its boards", () => {
    expect(image.firmware).toEqual(firmwareView(image.bytes));
    expect(image.firmware.entries.map((e) => e.display)).toContain('model.tflite');
    expect(image.prepared).toMatchObject({ name: 'demo.mpremote.img', bytes: image.bytes, sha256: image.sha256, entries: image.entries });
    expect(image.prepared.firmwareFault).toBeUndefined();
    // One walk of the image, kept: the scenario's view is the one a flash's proof lists.
    expect(image.firmware).toBe(image.prepared.view);
    expect(image.firmware).toBe(image.firmware);
  });

  it("names model.tflite, its offset, its address and the alignment found vs required for mpremote's image", () => {
    const models = modelFiles(image.files, h7, image.bytes);
    expect(models.map((m) => [m.path, m.offset])).toEqual([['model.tflite', 482]]);
    const address = h7.partition.origin + 482;
    const head = Buffer.from(img.subarray(482, 498)).toString('hex');
    const [f] = judgePlacement(models, [['model.tflite', address, head, null]], image.bytes, h7);
    expect(f!.problems).toEqual([
      `model.tflite: data at image offset 482 sits at address 0x081e01e2, which is 2 mod 16: not 16-byte aligned as profile openmv-h7 requires for models`,
    ]);
  });

  it('passes an aligned model and refuses bytes that are not the image model', () => {
    const models = [{ path: 'model.tflite', offset: 480, size: 500, sha256: '' }];
    const bytes = new Uint8Array(1000);
    bytes.set(img.subarray(482, 482 + 16), 480);
    const ok = judgePlacement(models, [['model.tflite', h7.partition.origin + 480, Buffer.from(bytes.subarray(480, 496)).toString('hex'), null]], bytes, h7);
    expect(ok[0]!.problems).toEqual([]);
    const wrong = judgePlacement(models, [['model.tflite', h7.partition.origin + 480, '00'.repeat(16), null]], bytes, h7);
    expect(wrong[0]!.problems[0]).toMatch(/^model\.tflite: the bytes at 0x081e01e0 \(0000000000000000…\) are not the image's model/);
  });

  it('knows a model by name in any case or by content, and judges its format against the profile', () => {
    const n6 = loadProfile('openmv-n6');
    const tfl = new Uint8Array(32);
    tfl.set(new TextEncoder().encode('TFL3'), 4);
    const nbin = new TextEncoder().encode('NBIN and some more bytes');
    const text = new TextEncoder().encode('person\nface\n');
    const bytes = new Uint8Array(200);
    const put = (b: Uint8Array, at: number) => { bytes.set(b, at); return { offset: at, size: b.length }; };
    const files = [
      { path: 'UPPER.TFLITE', ...put(tfl, 0), sha256: '' },
      { path: 'data.bin', ...put(tfl, 32), sha256: '' },
      { path: 'net.tflite', ...put(nbin, 64), sha256: '' },
      { path: 'labels.tflite', ...put(text, 96), sha256: '' },
      { path: 'empty.tflite', offset: 120, size: 0, sha256: '' },
      { path: 'labels.txt', ...put(text, 128), sha256: '' },
    ];
    expect(modelFiles(files, h7, bytes).map((f) => f.path)).toEqual(['UPPER.TFLITE', 'data.bin', 'net.tflite', 'labels.tflite', 'empty.tflite']);
    const problems = (p: typeof h7) => files.slice(0, 5).map((f) => formatProblem(f, bytes, p));
    expect(problems(h7)).toEqual([
      undefined,
      undefined,
      "net.tflite: is an ST NBIN network ('NBIN' at byte 0), but profile openmv-h7 runs only TFLite models ('TFL3' at byte 4)",
      "labels.tflite: not a model: neither a TFLite flatbuffer ('TFL3' at byte 4) nor an NBIN network ('NBIN' at byte 0)",
      "empty.tflite: 0 bytes: not a model (profile openmv-h7 runs TFLite models ('TFL3' at byte 4))",
    ]);
    expect(problems(n6).slice(0, 3)).toEqual([
      "UPPER.TFLITE: is a TFLite model ('TFL3' at byte 4), but profile openmv-n6 runs only ST NBIN networks ('NBIN' at byte 0)",
      "data.bin: is a TFLite model ('TFL3' at byte 4), but profile openmv-n6 runs only ST NBIN networks ('NBIN' at byte 0)",
      undefined,
    ]);
    // Placement reports the format whatever the board answered.
    const [f] = judgePlacement([files[4]!], [['empty.tflite', h7.partition.origin + 128, '', null]], bytes, h7);
    expect(f!.problems[0]).toMatch(/^empty\.tflite: 0 bytes: not a model/);
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
