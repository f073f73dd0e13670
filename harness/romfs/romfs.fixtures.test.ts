/**
 * Ground truth: the fixture images (made by mpremote, OpenMV's mkromfs and MicroPython's tests)
 * and manifest.json (what the real MicroPython VfsRom sees in each). The parser must reproduce the
 * manifest; the builder must reproduce the mpremote and mkromfs images byte for byte.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parseRomfs } from './parse.js';
import { buildImage } from './build.js';
import { inspectImage } from './inspect.js';
import { verifyImage } from './verify.js';
import { loadProfile } from '../profile/profile.js';

const F = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));
const read = (p: string) => new Uint8Array(readFileSync(F + p));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

interface ManifestEntry {
  path: string;
  type: 'file' | 'dir';
  offset?: number;
  size?: number;
  sha256?: string;
}
const manifest = JSON.parse(readFileSync(`${F}romfs/manifest.json`, 'utf8')) as Record<string, { size: number; sha256: string; entries: ManifestEntry[] }>;

describe('parser against manifest.json', () => {
  it.each(Object.keys(manifest))('%s: paths, sizes, offsets and sha256 as VfsRom sees them', (name) => {
    const bytes = read(`romfs/${name}`);
    const m = manifest[name]!;
    expect(bytes.length).toBe(m.size);
    expect(sha(bytes)).toBe(m.sha256);
    const parsed = parseRomfs(bytes);
    const got = parsed.entries
      .map((e) => (e.type === 'dir' ? { path: e.path, type: 'dir' } : { path: e.path, type: 'file', offset: e.offset, size: e.size, sha256: sha(bytes.subarray(e.offset, e.offset + e.size)) }))
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    const want = [...m.entries].sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(got).toEqual(want);
  });
});

describe('builder reproduces upstream builders byte for byte', () => {
  it('--layout mpremote --keep-py on trees/demo gives demo.mpremote.img', async () => {
    const r = await buildImage({ sourceDir: `${F}trees/demo`, layout: 'mpremote', keepPy: true, cacheDir: false });
    expect(Buffer.from(r.bytes).equals(Buffer.from(read('romfs/demo.mpremote.img')))).toBe(true);
    expect(r.entries.find((e) => e.path === 'model.tflite')).toMatchObject({ offset: 482 });
  });

  it('openmv-flat.romfs_config.json with TOP = fixtures gives openmv-flat.img (labels added beside models)', async () => {
    const r = await buildImage({ configFile: `${F}romfs/openmv-flat.romfs_config.json`, vars: { TOP: F.replace(/\/$/, '') }, cacheDir: false });
    expect(sha(r.bytes)).toBe(manifest['openmv-flat.img']!.sha256);
    expect(r.entries.map((e) => e.path)).toEqual([
      'person_detect.tflite', 'person_detect.txt', 'fomo_face_detection.tflite', 'fomo_face_detection.txt',
      'micro_speech.tflite', 'micro_speech.txt', 'force_int_quant.tflite', 'config.json',
    ]);
    expect(r.usage).toEqual({ used: 387470, size: 0x100000, sizeFrom: 'config' });
  });

  it('micropython-random tree, mpremote layout, parses to the same files as the upstream test image', async () => {
    const r = await buildImage({ sourceDir: `${F}trees/micropython-random`, layout: 'mpremote', keepPy: true, cacheDir: false });
    const mine = inspectImage(r.bytes).entries.map((e) => [e.path, e.type === 'file' ? e.sha256 : '']);
    const theirs = inspectImage(read('romfs/micropython-random.img')).entries.map((e) => [e.path, e.type === 'file' ? e.sha256 : '']);
    expect(mine).toEqual(theirs);
  });
});

describe('verify against the fixtures', () => {
  const h7 = loadProfile('openmv-h7');
  it('rejects demo.mpremote.img for openmv-h7: model.tflite at offset 482', async () => {
    const problems = await verifyImage(read('romfs/demo.mpremote.img'), h7);
    const errors = problems.filter((p) => p.severity === 'error');
    expect(errors).toEqual([{ severity: 'error', path: 'model.tflite', message: expect.stringMatching(/offset 482 .*aligned to 2 bytes.*requires 16/) }]);
    expect(problems.filter((p) => p.severity === 'warning').map((p) => p.path)).toEqual(['app/__init__.py', 'lib/mylib/__init__.py', 'lib/mylib/helpers.py']);
  });

  it('accepts openmv-flat.img for openmv-h7 (nominal 128 KiB overflow is a warning only)', async () => {
    const problems = await verifyImage(read('romfs/openmv-flat.img'), h7);
    expect(problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(problems).toEqual([{ severity: 'warning', path: '', message: expect.stringMatching(/387470 bytes.*131072/) }]);
  });

  it('an explicit partition size that the image exceeds is an error', async () => {
    const problems = await verifyImage(read('romfs/openmv-flat.img'), h7, { partitionSize: 0x20000 });
    expect(problems).toEqual([{ severity: 'error', path: '', message: expect.stringMatching(/387470 bytes, partition size is 131072/) }]);
  });

  it('rejects openmv-flat.img for openmv-n6 (16-aligned models, N6 needs 32)', async () => {
    const errors = (await verifyImage(read('romfs/openmv-flat.img'), loadProfile('openmv-n6'))).filter((p) => p.severity === 'error');
    // micro_speech happens to sit at 357856 = 32 * 11183; fomo at 300720 is only 16-aligned.
    expect(errors.filter((e) => /aligned/.test(e.message)).map((e) => e.path)).toEqual(['fomo_face_detection.tflite']);
    // And every model is TFLite, which the N6's ml does not run.
    expect(errors.filter((e) => /runs ST NBIN models only/.test(e.message)).length).toBeGreaterThan(0);
  });
});
