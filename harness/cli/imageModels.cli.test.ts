/**
 * The model checks in `hil image verify` and `hil image inspect`, as a user runs them (bin/hil.js
 * spawned): an image holding a model whose operator code was edited in its bytes to one the
 * firmware lacks fails verify (exit 1) with one line naming the file, the op and the firmware
 * version; Ethos-U warnings on the AE3 keep exit 0; inspect --json carries each model's facts and
 * checks; a bad --firmware is exit 2 with one line.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildImage } from '../romfs/build.js';
import { rulesFromProfile } from '../romfs/rules.js';
import { loadProfile } from '../profile/profile.js';
import { parseTflite } from '../model/tflite.js';
import { opcodeFieldPositions } from '../model/edit.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const F = join(root, 'test/fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'hil-image-models-'));
const env = { ...process.env, XDG_CACHE_HOME: join(tmp, 'cache') };

function newest(dir: string): number {
  let t = 0;
  for (const n of readdirSync(dir)) if (n.endsWith('.ts') && !n.endsWith('.test.ts')) t = Math.max(t, statSync(join(dir, n)).mtimeMs);
  return t;
}

function hil(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/hil.js'), ...args], { cwd: tmp, encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let edited: string;

beforeAll(async () => {
  const built = join(root, 'dist/harness/cli/imageModels.js');
  const srcs = ['harness/model', 'harness/cli', 'harness/cli/commands', 'harness/romfs'].map((d) => newest(join(root, d)));
  if (!existsSync(built) || statSync(built).mtimeMs < Math.max(...srcs)) {
    const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, encoding: 'utf8', timeout: 180_000 });
    if (r.status !== 0) throw new Error(`npm run build failed: ${r.stdout}${r.stderr}`);
  }
  // A tree with person_detect whose SOFTMAX operator code is changed to RELU_N1_TO_1 (20), which
  // OpenMV's resolver does not register, next to an untouched micro_speech.
  const tree = join(tmp, 'tree');
  mkdirSync(tree);
  const pd = new Uint8Array(readFileSync(join(F, 'models/person_detect.tflite')));
  const i = parseTflite(pd).operatorCodes.findIndex((c) => c.builtin === 'SOFTMAX');
  pd[opcodeFieldPositions(pd, i).deprecated!] = 20;
  writeFileSync(join(tree, 'pd.tflite'), pd);
  writeFileSync(join(tree, 'speech.tflite'), readFileSync(join(F, 'models/micro_speech.tflite')));
  const h7 = loadProfile('openmv-h7-plus');
  edited = join(tmp, 'edited.img');
  await buildImage({ sourceDir: tree, rules: rulesFromProfile(h7, []), profile: h7, keepPy: true, layout: 'aligned', cacheDir: false, outFile: edited });
}, 200_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('hil image verify: model checks', () => {
  it('an operator the firmware does not register: exit 1, one line naming file, op and firmware version', () => {
    const r = hil('image', 'verify', edited, '--profile', 'openmv-h7-plus');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `error: ${edited}:/pd.tflite: operator RELU_N1_TO_1 (builtin code 20) (1 operator) is not registered by openmv v5.0.0: ml.Model() raises ValueError "Failed to allocate tensors"\n` +
        'failed: 1 error, 0 warnings for openmv-h7-plus\n',
    );
    expect(hil('image', 'verify', edited, '--profile', 'openmv-h7-plus', '--firmware', 'v4.8.1').stdout).toContain('is not registered by openmv v4.8.1');
  });

  it('--json carries the firmware, the problems and per model the arena estimate', () => {
    const j = JSON.parse(hil('image', 'verify', edited, '--profile', 'openmv-h7-plus', '--json').stdout) as {
      ok: boolean; firmware: string; problems: { path: string; message: string }[]; models: { path: string; arena: { total: number }; findings: { code: string }[] }[];
    };
    expect(j.ok).toBe(false);
    expect(j.firmware).toBe('openmv v5.0.0');
    expect(j.models.map((m) => [m.path, m.findings.map((f) => f.code)])).toEqual([['pd.tflite', ['op']], ['speech.tflite', []]]);
    expect(j.models[1]!.arena.total).toBeGreaterThan(1960);
  });

  it('the fixture image on the AE3: one Ethos-U warning per model, still exit 0', () => {
    const r = hil('image', 'verify', join(F, 'romfs/openmv-flat.img'), '--profile', 'openmv-ae3');
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^warning: .*: not compiled for Ethos-U .* on openmv-ae3 it runs on the CPU, not the NPU$/gm)).toHaveLength(4);
    expect(r.stdout).toMatch(/ok: .* passes for openmv-ae3 \(4 warnings\)\n$/);
  });

  it('an unknown --firmware: exit 2, one line, before reading the image', () => {
    const r = hil('image', 'verify', join(tmp, 'no-such.img'), '--profile', 'openmv-h7', '--firmware', 'v9.0.0');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('hil: --firmware v9.0.0: no op table for that version (known: v4.7.0, v4.8.0, v4.8.1, v5.0.0)\n');
  });
});

describe('hil image inspect: models', () => {
  it('--json: each model entry carries what it declares and the checks per profile', () => {
    const j = JSON.parse(hil('image', 'inspect', join(F, 'romfs/openmv-flat.img'), '--json').stdout) as {
      entries: { path: string; model?: { format: string; schemaVersion: number; subgraphs: { inputs: { dtype: string; shape: number[] }[]; outputs: { shape: number[] }[] }[]; operators: { op: string }[]; checks: Record<string, { findings: { code: string }[] }> } }[];
    };
    const pd = j.entries.find((e) => e.path === 'person_detect.tflite')!.model!;
    expect(pd.format).toBe('tflite');
    expect(pd.schemaVersion).toBe(3);
    expect(pd.subgraphs[0]!.inputs[0]).toMatchObject({ dtype: 'INT8', shape: [1, 96, 96, 1] });
    expect(pd.subgraphs[0]!.outputs[0]!.shape).toEqual([1, 2]);
    expect(pd.operators.map((o) => o.op)).toContain('DEPTHWISE_CONV_2D');
    expect(Object.keys(pd.checks).sort()).toEqual(['arduino-giga', 'arduino-nicla-vision', 'arduino-portenta-h7', 'openmv-ae3', 'openmv-h7', 'openmv-h7-plus', 'openmv-n6', 'openmv-pt', 'openmv-rt1062', 'qemu-mps2-an385', 'qemu-mps2-an500', 'qemu-mps3-an547']);
    expect(pd.checks['openmv-n6']!.findings.map((f) => f.code)).toEqual(['format']);
    expect(pd.checks['openmv-ae3']!.findings.map((f) => f.code)).toEqual(['npu']);
    expect(pd.checks['openmv-h7']!.findings).toEqual([]);
    expect(j.entries.find((e) => e.path === 'person_detect.txt')!.model).toBeUndefined();
  });

  it('text with --profile: a line per model and one per finding', () => {
    const r = hil('image', 'inspect', edited, '--profile', 'openmv-h7-plus');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('models (checked for openmv-h7-plus, openmv v5.0.0):\n');
    expect(r.stdout).toMatch(/^ {2}\/speech\.tflite: TFLite schema 3, 1 subgraph, in INT8 1x1960 -> out INT8 1x4; ops DEPTHWISE_CONV_2D FULLY_CONNECTED RESHAPE SOFTMAX; arena >= \d+ bytes$/m);
    expect(r.stdout).toMatch(/^ {4}error: openmv-h7-plus \(openmv v5\.0\.0\): operator RELU_N1_TO_1 /m);
  });
});
