/**
 * Issue 11, romfs side: items 3 (every .py compiled at build, --keep-py too, and at verify),
 * 6 (one model rule for build and verify), 8 (addresses judged as origin + offset by build,
 * verify and flash preflight alike) and 9 (the image cache is not fooled by a rewrite that keeps
 * size and mtime). Each test fails on the code before its fix.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from '@jest/globals';
import { buildImage } from './build.js';
import { parseRomfs, type RomfsFileEntry } from './parse.js';
import { verifyImage, verifyStructure } from './verify.js';
import { isModelFile, misalignedModelData, modelFormatOf } from './models.js';
import { MpyCompileError } from './errors.js';
import { loadProfile } from '../profile/profile.js';
// Only to check that flash preflight judges with the same function (harness/romfs imports nothing from flash).
import { misalignedModels as preflightMisaligned } from '../flash/preflight.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-romfs-issue11-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function tree(files: Record<string, string | Uint8Array>): string {
  const dir = join(tmp, `t${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}
const h7 = loadProfile('openmv-h7');
const n6 = loadProfile('openmv-n6');
const qemu = loadProfile('qemu-mps2-an385');
const CORPUS = fileURLToPath(new URL('../../test/fixtures/romfs/corpus/', import.meta.url));

/** A TFLite-looking file (TFL3 at byte 4) or an ST NBIN one, of `size` bytes. */
const model = (size: number, kind: 'tflite' | 'nbin' = 'tflite') => {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 37 + 11) & 0xff;
  b.set(kind === 'tflite' ? [0x1c, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33] : [0x4e, 0x42, 0x49, 0x4e]);
  return b;
};
const fileOf = (bytes: Uint8Array, path: string) => parseRomfs(bytes).entries.find((e): e is RomfsFileEntry => e.type === 'file' && e.path === path)!;

describe('item 3: every .py is compiled, at build (--keep-py too) and at verify', () => {
  it('--keep-py still refuses a .py with a syntax error, naming file and line', async () => {
    const dir = tree({ 'lib/ok.py': 'x = 1\n', 'main.py': 'print(1)\n\ndef f(:\n    pass\n' });
    const err = await buildImage({ sourceDir: dir, keepPy: true, cacheDir: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MpyCompileError);
    expect((err as Error).message).toBe(`${join(dir, 'main.py')}:3: SyntaxError: invalid syntax`);
  });

  it('--keep-py ships the sources when they compile', async () => {
    const r = await buildImage({ sourceDir: tree({ 'boot.py': 'import sys\n', 'lib/u.py': 'y = 2\n' }), keepPy: true, cacheDir: false });
    expect(r.entries.filter((e) => e.type === 'file').map((e) => e.path)).toEqual(['boot.py', 'lib/u.py']);
    expect(r.compiled).toBe(0);
  });

  it('boot.py and main.py are compiled at build like any other .py', async () => {
    const err = await buildImage({ sourceDir: tree({ 'boot.py': 'if True\n    pass\n' }), cacheDir: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MpyCompileError);
    expect((err as MpyCompileError).message).toMatch(new RegExp(`boot\\.py:\\d+: SyntaxError`));
  });

  it('boot.py and main.py ship as source (the firmware runs them by name), other .py as .mpy; verify does not warn about them', async () => {
    const r = await buildImage({ sourceDir: tree({ 'boot.py': 'import sys\n', 'main.py': 'print(1)\n', 'lib/u.py': 'y = 2\n', 'app/main.py': 'z = 3\n' }), profile: qemu, cacheDir: false });
    expect(r.entries.filter((e) => e.type === 'file').map((e) => e.path).sort()).toEqual(['app/main.py', 'boot.py', 'lib/u.mpy', 'main.py']);
    expect(r.compiled).toBe(1);
    expect(r.keptAsSource.sort()).toEqual(['app/main.py', 'boot.py', 'main.py']);
    const m = fileOf(r.bytes, 'main.py');
    expect(Buffer.from(r.bytes.subarray(m.offset, m.offset + m.size)).toString()).toBe('print(1)\n');
    const problems = await verifyImage(r.bytes, qemu);
    expect(problems.filter((p) => /uncompiled/.test(p.message))).toEqual([]);
    // A main.py beside a main.mpy is no clash: nothing named main.mpy is made.
    const both = await buildImage({ sourceDir: tree({ 'main.py': 'a = 1\n', 'main.mpy': '' }), cacheDir: false }).catch((e: unknown) => e);
    expect(both).not.toBeInstanceOf(Error);
  });

  it('verify warns about a main.mpy or boot.mpy at the top of the image: the firmware never runs them', async () => {
    const mpy = await buildImage({ sourceDir: tree({ 'm.py': 'x = 1\n' }), profile: qemu, cacheDir: false });
    const m = fileOf(mpy.bytes, 'm.mpy');
    const code = mpy.bytes.slice(m.offset, m.offset + m.size);
    const r = await buildImage({ sourceDir: tree({ 'main.mpy': code, 'boot.mpy': code, 'app/main.mpy': code, 'lib/main.mpy': code }), profile: qemu, cacheDir: false });
    const entry = verifyStructure(r.bytes, qemu).filter((p) => /by name/.test(p.message));
    expect(entry).toEqual([
      { severity: 'warning', path: 'boot.mpy', message: 'the firmware runs boot.py by name at start-up and never runs boot.mpy; ship it as boot.py (hil image build does)' },
      { severity: 'warning', path: 'main.mpy', message: 'the firmware runs main.py by name at start-up and never runs main.mpy; ship it as main.py (hil image build does)' },
    ].sort((a, b) => (a.path < b.path ? -1 : 1)));
    expect(entry.every((p) => p.severity === 'warning')).toBe(true);
  });

  it('verify compiles every .py it finds: a syntax error in main.py is an error naming file and line', async () => {
    const r = await buildImage({ sourceDir: tree({ 'main.py': 'a = 1\nb = 2\n', 'lib/m.py': 'z = 3\n' }), keepPy: true, cacheDir: false });
    const bytes = new Uint8Array(r.bytes);
    const f = fileOf(bytes, 'main.py');
    bytes.set(new TextEncoder().encode('b = ('), f.offset + 6); // 'b = 2' -> 'b = (' on line 2
    const problems = await verifyImage(bytes, qemu, { compiler: undefined });
    expect(problems.filter((p) => p.severity === 'error')).toEqual([{ severity: 'error', path: 'main.py', message: expect.stringMatching(/^does not compile: line [23]: SyntaxError/) }]);
    // The one in the corpus, made by MicroPython's own tools.
    const corpus = await verifyImage(new Uint8Array(readFileSync(`${CORPUS}0148-py-syntax-error.img`)), qemu);
    expect(corpus.filter((p) => p.severity === 'error')).toEqual([{ severity: 'error', path: expect.stringMatching(/\.py$/), message: expect.stringMatching(/^does not compile: line \d+: SyntaxError/) }]);
  });
});

describe('item 6: one model rule for build and verify', () => {
  it('the rule: profile globs in any case, or TFL3 at byte 4 / NBIN at byte 0 for any name', () => {
    expect(isModelFile(h7, 'UPPER.TFLITE')).toBe(true);
    expect(isModelFile(h7, 'x.Tflite')).toBe(true);
    expect(isModelFile(h7, 'a/b/person.int8.tflite')).toBe(true);
    expect(isModelFile(h7, 'weights.bin')).toBe(false);
    expect(isModelFile(h7, 'weights.bin', model(64))).toBe(true);
    expect(isModelFile(h7, 'net.dat', model(64, 'nbin'))).toBe(true);
    expect(isModelFile(n6, 'w.BIN')).toBe(true);
    expect(isModelFile(n6, 'm.onnx')).toBe(true);
    expect(modelFormatOf(model(16, 'nbin'))).toBe('nbin');
  });

  it('build aligns every model by the rule (name in any case, content for any name); verify agrees', async () => {
    const files = {
      'a.txt': 'pad',
      'UPPER.TFLITE': model(101),
      'b.txt': 'pa',
      'x.Tflite': model(77),
      'c.txt': 'p',
      'holds-tfl3.bin': model(90),
      'd.txt': 'pad!!',
      'holds-nbin.dat': model(50, 'nbin'),
      'e.txt': 'x',
      'lib/Deep.TfLite': model(33),
    };
    const r = await buildImage({ sourceDir: tree(files), profile: h7, cacheDir: false });
    const parsed = parseRomfs(r.bytes);
    const models = ['UPPER.TFLITE', 'x.Tflite', 'holds-tfl3.bin', 'holds-nbin.dat', 'lib/Deep.TfLite'];
    for (const m of models) expect([m, fileOf(r.bytes, m).offset % 16]).toEqual([m, 0]);
    expect(parsed.entries.length).toBeGreaterThan(0);
    expect(r.entries.filter((e) => e.type === 'file' && e.model).map((e) => e.path).sort()).toEqual([...models].sort());
    // holds-nbin.dat is an NBIN model: the H7 runs TFLite only, and verify says so.
    const errs = (await verifyImage(r.bytes, h7)).filter((p) => p.severity === 'error');
    expect(errs).toEqual([{ severity: 'error', path: 'holds-nbin.dat', message: 'the model is an ST network binary (NBIN), but openmv-h7 runs TFLite models only' }]);
  });

  it("the N6's model globs (*.bin, *.onnx) get its 32-byte alignment; a TFLite model on the N6 is an error", async () => {
    const r = await buildImage({ sourceDir: tree({ 'a.txt': 'q', 'w.BIN': model(40, 'nbin'), 'b.txt': 'qq', 'm.onnx': new Uint8Array(48).fill(7), 'n.tflite': model(64) }), profile: n6, cacheDir: false });
    for (const m of ['w.BIN', 'm.onnx', 'n.tflite']) expect([m, fileOf(r.bytes, m).offset % 32]).toEqual([m, 0]);
    const errs = verifyStructure(r.bytes, n6).filter((p) => p.severity === 'error');
    expect(errs).toEqual([{ severity: 'error', path: 'n.tflite', message: 'the model is a TFLite model (TFL3), but openmv-n6 runs ST NBIN models only' }]);
  });
});

describe('item 8: addresses are judged as origin + offset by build, verify and flash preflight', () => {
  /** qemu-mps2-an385 with its partition moved to an origin that is only 8-byte aligned. */
  const oddProfile = () => {
    const src = readFileSync(qemu.source, 'utf8').replace(/^name: .*$/m, 'name: odd-origin').replace('origin: 0x21000000', 'origin: 0x21000008');
    const p = join(tmp, `odd-${n++}.yaml`);
    writeFileSync(p, src);
    return loadProfile(p);
  };

  it('the judge: the same offset is fine at an aligned origin and misaligned at an odd one', () => {
    const files = [{ path: 'm.tflite', offset: 64 }, { path: 'labels.txt', offset: 8 }];
    expect(misalignedModelData(files, qemu, qemu.partition.origin)).toEqual([]);
    expect(misalignedModelData(files, qemu, 0x21000008)).toEqual([{ path: 'm.tflite', offset: 64, address: 0x21000048, align: 16 }]);
  });

  it('verify fails an image whose models sit on aligned offsets but misaligned addresses', async () => {
    const img = await buildImage({ sourceDir: tree({ 'm.tflite': model(200), 't.txt': 'x' }), profile: qemu, cacheDir: false });
    expect(verifyStructure(img.bytes, qemu).filter((p) => p.severity === 'error')).toEqual([]);
    const odd = oddProfile();
    const errs = verifyStructure(img.bytes, odd).filter((p) => p.severity === 'error');
    expect(errs).toEqual([{ severity: 'error', path: 'm.tflite', message: expect.stringMatching(/address 0x2100[0-9a-f]{4}: partition origin 0x21000008 \+ offset\) is aligned to 8 bytes; odd-origin requires 16/) }]);
  });

  it('build for that profile puts the data on aligned addresses, and its claim is the judge\'s', async () => {
    const odd = oddProfile();
    const dir = tree({ 'm.tflite': model(200), 't.txt': 'x', 'lib/n.tflite': model(99) });
    const r = await buildImage({ sourceDir: dir, profile: odd, cacheDir: false });
    for (const m of ['m.tflite', 'lib/n.tflite']) expect((odd.partition.origin + fileOf(r.bytes, m).offset) % 16).toBe(0);
    expect(r.misaligned).toEqual([]);
    expect(verifyStructure(r.bytes, odd).filter((p) => p.severity === 'error')).toEqual([]);
    // An override that leaves models off their alignment: the build says so (the CLI prints
    // "NOT aligned for odd-origin"), as verify and flash would.
    const low = await buildImage({ sourceDir: dir, profile: odd, rules: { rules: [{ glob: '*.tflite', align: 4 }], default: 4 }, cacheDir: false });
    const judged = misalignedModelData(low.entries.filter((e) => e.type === 'file').map((e) => ({ path: e.path, offset: (e as { offset: number }).offset })), odd, odd.partition.origin);
    expect(low.misaligned).toEqual(judged);
    expect(low.misaligned.length).toBeGreaterThan(0);
  });
});

describe('flash preflight uses the same rule and judge', () => {
  it('preflight flags what verify flags: an upper-case name and a .bin holding TFL3, at an odd origin', async () => {
    const r = await buildImage({ sourceDir: tree({ 'A.TFLITE': model(64), 'w.bin': model(64), 't.txt': 'x' }), profile: qemu, cacheDir: false });
    const files = parseRomfs(r.bytes).entries.filter((e): e is RomfsFileEntry => e.type === 'file');
    expect(preflightMisaligned(files, qemu, qemu.partition.origin, r.bytes)).toEqual([]);
    const odd = preflightMisaligned(files, qemu, 0x21000008, r.bytes).map((m) => m.path).sort();
    expect(odd).toEqual(['A.TFLITE', 'w.bin']);
    expect(odd).toEqual(misalignedModelData(files.map((f) => ({ path: f.path, offset: f.offset, data: r.bytes.subarray(f.offset, f.offset + f.size) })), qemu, 0x21000008).map((m) => m.path).sort());
  });
});

describe('item 9: the image cache is keyed on more than size and mtime', () => {
  it('a file rewritten in place with the same size and its mtime put back gives a fresh image', async () => {
    const dir = tree({ 'm.tflite': model(100), 'a.txt': 'one' });
    const a = join(dir, 'a.txt');
    utimesSync(a, 1_700_000_000, 1_700_000_000); // a whole second, so it can be put back exactly
    const cache = join(tmp, 'cache-rewrite');
    const first = await buildImage({ sourceDir: dir, profile: h7, cacheDir: cache });
    const before = statSync(a);
    writeFileSync(a, 'two'); // same size, same inode
    utimesSync(a, 1_700_000_000, 1_700_000_000); // mtime restored
    expect(statSync(a).mtimeMs).toBe(before.mtimeMs);
    expect(statSync(a).ino).toBe(before.ino);
    const again = await buildImage({ sourceDir: dir, profile: h7, cacheDir: cache });
    expect(again.cached).toBe(false);
    const f = fileOf(again.bytes, 'a.txt');
    expect(Buffer.from(again.bytes.subarray(f.offset, f.offset + f.size)).toString()).toBe('two');
    expect(first.cached).toBe(false);
    // And an untouched input still comes from the cache.
    expect((await buildImage({ sourceDir: dir, profile: h7, cacheDir: cache })).cached).toBe(true);
  });
});
