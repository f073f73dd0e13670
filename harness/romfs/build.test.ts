/** Builder behaviour: alignment at depth, rules and overrides, .py compilation, errors, determinism, caches. */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { buildImage } from './build.js';
import { parseRomfs } from './parse.js';
import { inspectImage } from './inspect.js';
import { verifyImage } from './verify.js';
import { rulesFromProfile, alignFor, parseAlignOverride, globMatches } from './rules.js';
import { mpyHeader, mpyLoadProblem } from './mpyHeader.js';
import { fileKind } from './fileKind.js';
import { MpyCompileError, RomfsBuildError } from './errors.js';
import { loadProfile } from '../profile/profile.js';
import { ConfigError } from '../errors.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-romfs-build-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
function tree(files: Record<string, string | Uint8Array>): string {
  const dir = join(tmp, `t${n++}`);
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}
const h7 = loadProfile('openmv-h7');
const n6 = loadProfile('openmv-n6');
const tfl = (size: number) => {
  const b = new Uint8Array(size);
  b.set([0x1c, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33]);
  for (let i = 8; i < size; i++) b[i] = (i * 31) & 0xff;
  return b;
};

describe('alignment rules', () => {
  it('*.tflite matches multi-dot names (the OpenMV IDE full-suffix bug does not happen)', () => {
    const rules = rulesFromProfile(h7);
    expect(alignFor(rules, 'person.int8.tflite')).toBe(16);
    expect(alignFor(rules, 'deep/er/person.int8.tflite')).toBe(16);
    expect(alignFor(rules, 'labels.txt')).toBe(4);
    expect(alignFor(rulesFromProfile(n6), 'a.b.c.tflite')).toBe(32);
  });
  it('overrides win, later over earlier; a glob with / matches the whole path', () => {
    const rules = rulesFromProfile(h7, ['*.bin=64', 'fw/*.bin=256']);
    expect(alignFor(rules, 'x.bin')).toBe(64);
    expect(alignFor(rules, 'fw/x.bin')).toBe(256);
    expect(globMatches('fw/*.bin', 'other/x.bin')).toBe(false);
  });
  it('refuses bad overrides with one line naming the option', () => {
    expect(() => parseAlignOverride('*.tflite=24')).toThrow(/--align '\*\.tflite=24': alignment must be a power of two/);
    expect(() => parseAlignOverride('*.tflite')).toThrow(/expected GLOB=N/);
  });
});

describe('aligned layout', () => {
  it('aligns every file at any depth, counted from the image start, and round-trips contents', async () => {
    const files = {
      'a.tflite': tfl(1000),
      'x/y/z/person.int8.tflite': tfl(333),
      'x/y/notes.txt': 'hello\n',
      'x/labels.txt': 'a\nb\n',
      'very/long/directory/name/that/goes/on/model.tflite': tfl(77),
      'empty.bin': new Uint8Array(0),
    };
    const dir = tree(files);
    for (const profile of [h7, n6]) {
      const r = await buildImage({ sourceDir: dir, profile, cacheDir: false });
      const parsed = parseRomfs(r.bytes);
      for (const e of parsed.entries) {
        if (e.type !== 'file') continue;
        const want = e.path.endsWith('.tflite') ? profile.align.models : 4;
        expect(e.offset % want).toBe(0);
        expect(Buffer.from(r.bytes.subarray(e.offset, e.offset + e.size)).equals(Buffer.from(files[e.path as keyof typeof files]))).toBe(true);
      }
      expect(parsed.entries.map((e) => e.path)).toEqual(r.entries.map((e) => e.path));
      // (The N6 runs NBIN models only: these TFLite ones are the format error verify must report.)
      const errors = (await verifyImage(r.bytes, profile)).filter((p) => p.severity === 'error');
      expect(errors.filter((p) => !(profile === n6 && /runs ST NBIN models only/.test(p.message)))).toEqual([]);
    }
  });

  it('is deterministic: same inputs, same bytes (with and without caches)', async () => {
    const dir = tree({ 'm.tflite': tfl(4000), 'app/main.py': 'print(1)\n', 'b/c.txt': 'x' });
    const a = await buildImage({ sourceDir: dir, profile: h7, cacheDir: false });
    const cache = join(tmp, 'cache-det');
    const b = await buildImage({ sourceDir: dir, profile: h7, cacheDir: cache });
    const c = await buildImage({ sourceDir: dir, profile: h7, cacheDir: cache });
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    expect(Buffer.from(a.bytes).equals(Buffer.from(c.bytes))).toBe(true);
    expect([b.cached, c.cached]).toEqual([false, true]);
  });

  it('the image cache notices a changed input', async () => {
    const dir = tree({ 'm.tflite': tfl(100), 'a.txt': 'one' });
    const cache = join(tmp, 'cache-change');
    await buildImage({ sourceDir: dir, profile: h7, cacheDir: cache });
    writeFileSync(join(dir, 'a.txt'), 'two');
    utimesSync(join(dir, 'a.txt'), new Date(), new Date(Date.now() + 5000));
    const r = await buildImage({ sourceDir: dir, profile: h7, cacheDir: cache });
    expect(r.cached).toBe(false);
    const e = parseRomfs(r.bytes).entries.find((x) => x.path === 'a.txt');
    expect(e && e.type === 'file' && Buffer.from(r.bytes.subarray(e.offset, e.offset + e.size)).toString()).toBe('two');
  });
});

describe('.py compilation', () => {
  it('compiles .py to bytecode .mpy (v6, arch 0) by default and caches by content', async () => {
    const dir = tree({ 'lib/util.py': 'def f(x):\n    return x + 1\n', 'main.txt': 't' });
    const cache = join(tmp, 'cache-mpy');
    const r = await buildImage({ sourceDir: dir, cacheDir: cache });
    const ins = inspectImage(r.bytes);
    const f = ins.entries.find((e) => e.path === 'lib/util.mpy');
    expect(f).toMatchObject({ kind: 'mpy', mpy: { version: 6, arch: 0 } });
    expect(ins.entries.some((e) => e.path.endsWith('.py'))).toBe(false);
    expect(readdirSync(join(cache, 'mpy')).filter((x) => x.endsWith('.mpy'))).toHaveLength(1);
  });

  it('--keep-py ships sources', async () => {
    const dir = tree({ 'a.py': 'x = 1\n' });
    const r = await buildImage({ sourceDir: dir, keepPy: true, cacheDir: false });
    expect(r.entries.map((e) => e.path)).toEqual(['a.py']);
  });

  it('a syntax error names the file and line, and no image comes back', async () => {
    const dir = tree({ 'ok.py': 'x = 1\n', 'app/bad.py': 'x = 1\n\ndef f(:\n    pass\n' });
    const err = await buildImage({ sourceDir: dir, cacheDir: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MpyCompileError);
    expect((err as Error).message).toBe(`${join(dir, 'app/bad.py')}:3: SyntaxError: invalid syntax`);
    expect((err as Error).message).not.toContain('\n');
  });
});

describe('build errors are one line naming the file', () => {
  it('image larger than the profile partition', async () => {
    const dir = tree({ 'big.tflite': tfl(140 * 1024) });
    await expect(buildImage({ sourceDir: dir, profile: h7, cacheDir: false })).rejects.toThrow(/image is \d+ bytes, partition holds 131072 \(from profile openmv-h7\)/);
  });
  it('image larger than --partition-size', async () => {
    const dir = tree({ 'a.bin': new Uint8Array(5000) });
    await expect(buildImage({ sourceDir: dir, partitionSize: 4096, cacheDir: false })).rejects.toThrow(RomfsBuildError);
  });
  it('non-ASCII names are refused', async () => {
    const dir = tree({ 'caf\u00e9.txt': 'x' });
    await expect(buildImage({ sourceDir: dir, cacheDir: false })).rejects.toThrow(/café\.txt: name has a non-ASCII character/);
  });
  it('missing source folder', async () => {
    await expect(buildImage({ sourceDir: join(tmp, 'nope'), cacheDir: false })).rejects.toThrow(/nope: no such directory/);
  });
  it('romfs_config.json: unknown variable, missing file, bad alignment name the entry', async () => {
    const cfg = (entries: unknown[]) => {
      const p = join(tree({ 'm.tflite': tfl(64) }), 'romfs.json');
      writeFileSync(p, JSON.stringify({ '0': { size: '0x10000', entries } }));
      return p;
    };
    await expect(buildImage({ configFile: cfg([{ type: 'tflite', path: '{NOPE}/m.tflite' }]), cacheDir: false })).rejects.toThrow(/entries\[0\]: field 'path': unknown variable \{NOPE\}/);
    await expect(buildImage({ configFile: cfg([{ type: 'data', path: '{TOP}/missing.bin' }]), cacheDir: false })).rejects.toThrow(ConfigError);
    await expect(buildImage({ configFile: cfg([{ type: 'tflite', path: '{TOP}/m.tflite', alignment: 12 }]), cacheDir: false })).rejects.toThrow(/field 'alignment' must be a power of two/);
    await expect(buildImage({ configFile: cfg([{ type: 'haar', path: '{TOP}/m.tflite' }]), cacheDir: false })).rejects.toThrow(/type 'haar'/);
  });
  it('romfs_config.json: globs expand in sorted order; disabled entries are skipped', async () => {
    const dir = tree({ 'models/b.tflite': tfl(100), 'models/a.tflite': tfl(50), 'models/a.txt': 'l1\n', 'x.bin': 'x' });
    const p = join(dir, 'cfg.json');
    writeFileSync(p, JSON.stringify({ '1': { size: '0x8000', entries: [{ type: 'tflite', path: '{TOP}/models/*.tflite', alignment: 32 }, { type: 'data', path: '{TOP}/x.bin', enabled: false }] } }));
    const r = await buildImage({ configFile: p, partition: 1, cacheDir: false });
    expect(r.entries.map((e) => [e.path, e.type === 'file' && e.offset % 32 === 0])).toEqual([['a.tflite', true], ['a.txt', expect.any(Boolean)], ['b.tflite', true]]);
  });
});

describe('.mpy headers and file kinds', () => {
  it('reads version, arch and sub-version', () => {
    expect(mpyHeader(Uint8Array.of(0x4d, 6, (6 << 2) | 3, 31))).toEqual({ version: 6, arch: 6, archName: 'armv7em', subVersion: 3, smallIntBits: 31 });
    expect(mpyHeader(Uint8Array.of(0x50, 6, 0, 31))).toBeUndefined();
  });
  it('load rule: bytecode anywhere with the version, Thumb native up to the firmware arch', () => {
    const fw = { version: 6, arch: 'armv7em' as const };
    expect(mpyLoadProblem(mpyHeader(Uint8Array.of(0x4d, 6, 0, 31))!, fw)).toBeUndefined();
    expect(mpyLoadProblem(mpyHeader(Uint8Array.of(0x4d, 5, 0, 31))!, fw)).toMatch(/version 5/);
    expect(mpyLoadProblem(mpyHeader(Uint8Array.of(0x4d, 6, 4 << 2, 31))!, fw)).toBeUndefined();
    expect(mpyLoadProblem(mpyHeader(Uint8Array.of(0x4d, 6, 8 << 2, 31))!, fw)).toMatch(/armv7emdp/);
    expect(mpyLoadProblem(mpyHeader(Uint8Array.of(0x4d, 6, 2 << 2, 31))!, fw)).toMatch(/x64/);
  });
  it('verify flags a native .mpy the firmware cannot load', async () => {
    const dir = tree({ 'n.mpy': Uint8Array.of(0x4d, 6, (2 << 2) | 3, 31, 0, 0) });
    const r = await buildImage({ sourceDir: dir, cacheDir: false });
    expect(await verifyImage(r.bytes, h7)).toEqual([{ severity: 'error', path: 'n.mpy', message: expect.stringMatching(/native code for x64/) }]);
  });
  it('kinds: TFL3 at 4, NBIN, mpy, text, other', () => {
    expect(fileKind('m.bin', tfl(16)).kind).toBe('tflite');
    expect(fileKind('m.tflite', new TextEncoder().encode('NBIN....')).kind).toBe('nbin');
    expect(fileKind('a.mpy', Uint8Array.of(0x4d, 6, 0, 31)).kind).toBe('mpy');
    expect(fileKind('a.txt', new TextEncoder().encode('hello\nworld\n')).kind).toBe('text');
    expect(fileKind('a.jpg', Uint8Array.of(0xff, 0xd8, 0, 1, 2)).kind).toBe('other');
  });
});

describe('outFile: streamed writing and up-to-date outputs', () => {
  it('writes the same bytes as the in-memory builder; an unchanged rebuild does not rewrite; a touched output is rewritten', async () => {
    const dir = tree({ 'm.tflite': tfl(70_000), 'app/main.py': 'print(2)\n', 'x/y/z.txt': 'z' });
    const cache = join(tmp, 'cache-out');
    const out = join(tmp, 'out', 'img.img');
    const mem = await buildImage({ sourceDir: dir, profile: h7, cacheDir: false });
    const a = await buildImage({ sourceDir: dir, profile: h7, cacheDir: cache, outFile: out });
    expect(a.written).toBe(true);
    expect(readFileSync(out).equals(Buffer.from(mem.bytes))).toBe(true);
    const b = await buildImage({ sourceDir: dir, profile: h7, cacheDir: cache, outFile: out });
    expect([b.written, b.cached]).toEqual([false, true]);
    expect(Buffer.from(b.bytes).equals(Buffer.from(mem.bytes))).toBe(true);
    expect(b.entries).toEqual(mem.entries);
    writeFileSync(out, 'clobbered');
    const c = await buildImage({ sourceDir: dir, profile: h7, cacheDir: cache, outFile: out });
    expect(c.written).toBe(true);
    expect(readFileSync(out).equals(Buffer.from(mem.bytes))).toBe(true);
  });

  it('a failed build leaves no output file', async () => {
    const dir = tree({ 'bad.py': 'def (:\n' });
    const out = join(tmp, 'never.img');
    await expect(buildImage({ sourceDir: dir, cacheDir: false, outFile: out })).rejects.toThrow(MpyCompileError);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(tmp).some((f) => f.startsWith('never.img'))).toBe(false);
  });
});

describe('--mpy-cross PATH (native)', () => {
  const native = process.env.HIL_MPY_CROSS ?? '/tmp/mpy/mpy-cross/build/mpy-cross';
  const have = existsSync(native);
  if (!have) process.stdout.write(`skipping native mpy-cross tests: ${native} not found (set HIL_MPY_CROSS)\n`);
  (have ? it : it.skip)('compiles with the native binary; the .mpy header is v6 bytecode; syntax errors name file and line', async () => {
    const dir = tree({ 'pkg/mod.py': 'def g():\n    return 3\n' });
    const r = await buildImage({ sourceDir: dir, mpyCross: native, cacheDir: false });
    const f = inspectImage(r.bytes).entries.find((e) => e.path === 'pkg/mod.mpy');
    expect(f).toMatchObject({ kind: 'mpy', mpy: { version: 6, arch: 0 } });
    const bad = tree({ 'b.py': 'x = 1\nif x\n' });
    await expect(buildImage({ sourceDir: bad, mpyCross: native, cacheDir: false })).rejects.toThrow(new RegExp(`^${join(bad, 'b.py')}:2: SyntaxError`));
  });
  it('a missing native binary is a one-line error naming it', async () => {
    const dir = tree({ 'a.py': 'x = 1\n' });
    await expect(buildImage({ sourceDir: dir, mpyCross: join(tmp, 'no-mpy-cross'), cacheDir: false })).rejects.toThrow(/--mpy-cross .*no-mpy-cross: no such file/);
  });
});
