/**
 * `hil image …` as a user runs it: the compiled CLI (bin/hil.js) spawned as a process. Checks exit
 * codes, one-line errors naming the file, and that a failed build writes nothing. Builds dist/
 * first when it is missing or older than the sources it runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const root = fileURLToPath(new URL('../..', import.meta.url));
const F = join(root, 'test/fixtures');
const tmp = mkdtempSync(join(tmpdir(), 'hil-image-cli-'));
const cacheEnv = { ...process.env, XDG_CACHE_HOME: join(tmp, 'cache') };

function newest(dir: string): number {
  let t = 0;
  for (const n of readdirSync(dir)) if (n.endsWith('.ts') && !n.endsWith('.test.ts')) t = Math.max(t, statSync(join(dir, n)).mtimeMs);
  return t;
}

beforeAll(() => {
  const built = join(root, 'dist/harness/cli/commands/image.js');
  const stale = !existsSync(built) || statSync(built).mtimeMs < Math.max(newest(join(root, 'harness/romfs')), newest(join(root, 'harness/cli/commands')));
  if (stale) {
    const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, encoding: 'utf8', timeout: 180_000 });
    if (r.status !== 0) throw new Error(`npm run build failed: ${r.stdout}${r.stderr}`);
  }
}, 200_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function hil(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin/hil.js'), ...args], { cwd: tmp, encoding: 'utf8', env: cacheEnv, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('hil image build', () => {
  it('builds the demo tree for openmv-h7, prints usage, and the image verifies', () => {
    const out = join(tmp, 'demo.img');
    const r = hil('image', 'build', join(F, 'trees/demo'), '-o', out, '--profile', 'openmv-h7');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^wrote .*demo\.img: \d+ bytes, 7 files \(3 compiled to \.mpy\), aligned for openmv-h7\nusage: [\d.]+ KiB of 128\.0 KiB \(profile\)/);
    const v = hil('image', 'verify', out, '--profile', 'openmv-h7');
    expect(v.code).toBe(0);
    expect(v.stdout).toBe(`ok: ${out} passes for openmv-h7\n`);
  });

  it('--config reproduces openmv-flat.img; --layout mpremote reproduces demo.mpremote.img', () => {
    const a = join(tmp, 'flat.img');
    expect(hil('image', 'build', '--config', join(F, 'romfs/openmv-flat.romfs_config.json'), '--var', `TOP=${F}`, '-o', a).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(join(F, 'romfs/openmv-flat.img')))).toBe(true);
    const b = join(tmp, 'mp.img');
    expect(hil('image', 'build', join(F, 'trees/demo'), '--layout', 'mpremote', '--keep-py', '-o', b).code).toBe(0);
    expect(readFileSync(b).equals(readFileSync(join(F, 'romfs/demo.mpremote.img')))).toBe(true);
  });

  it('a syntax error: exit 2, one line naming file and line, no image written', () => {
    const src = join(tmp, 'bad');
    cpSync(join(F, 'trees/demo'), src, { recursive: true });
    writeFileSync(join(src, 'lib/broken.py'), 'x = 1\ny = (\n');
    const out = join(tmp, 'bad.img');
    const r = hil('image', 'build', src, '-o', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^hil: ${src}/lib/broken\\.py:\\d+: SyntaxError: [^\\n]+\\n$`));
    expect(existsSync(out)).toBe(false);
  });

  it('partition overflow: exit 2, no image written', () => {
    const out = join(tmp, 'over.img');
    const r = hil('image', 'build', join(F, 'trees/demo'), '-o', out, '--partition-size', '64K');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^hil: .*trees\/demo: image is \d+ bytes, partition holds 65536 \(from --partition-size\); \d+ bytes too many\n$/);
    expect(existsSync(out)).toBe(false);
  });

  it('bad options are one line with exit 2', () => {
    expect(hil('image', 'build', join(F, 'trees/demo'), '--align', '*.tflite=3').stderr).toBe("hil: --align '*.tflite=3': alignment must be a power of two from 1 to 4096\n");
    const p = hil('image', 'build', join(F, 'trees/demo'), '--profile', 'no-such-board');
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/^hil: unknown profile 'no-such-board' \(known: .*openmv-h7.*\)\n$/);
    expect(hil('image', 'build', join(tmp, 'missing')).stderr).toBe(`hil: ${join(tmp, 'missing')}: no such directory\n`);
  });

  it('default output is <dir>.img next to the folder', () => {
    const src = join(tmp, 'app');
    mkdirSync(src);
    writeFileSync(join(src, 'a.txt'), 'hi');
    expect(hil('image', 'build', src, '--keep-py').code).toBe(0);
    expect(existsSync(join(tmp, 'app.img'))).toBe(true);
  });
});

describe('hil image inspect / verify', () => {
  it('inspect prints the tree with offset, achieved alignment, kind and sha256; --json parses', () => {
    const r = hil('image', 'inspect', join(F, 'romfs/demo.mpremote.img'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  model.tflite  size 57040  offset 482  align 2  tflite  sha256 fc3aec94b4b02dc6819db3e2d63bfd8055c9757fb350008538d4c1604aea4cb4');
    expect(r.stdout).toContain('    mylib/\n');
    const j = JSON.parse(hil('image', 'inspect', join(F, 'romfs/openmv-flat.img'), '--json').stdout) as { entries: { path: string; alignment: number; kind: string }[] };
    expect(j.entries.find((e) => e.path === 'person_detect.tflite')).toMatchObject({ alignment: 64, kind: 'tflite' });
  });

  it('verify rejects demo.mpremote.img for openmv-h7 (exit 1) and accepts openmv-flat.img (exit 0)', () => {
    const bad = hil('image', 'verify', join(F, 'romfs/demo.mpremote.img'), '--profile', 'openmv-h7');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^error: .*demo\.mpremote\.img:\/model\.tflite: model data at offset 482 is aligned to 2 bytes; openmv-h7 requires 16$/m);
    const good = hil('image', 'verify', join(F, 'romfs/openmv-flat.img'), '--profile', 'openmv-h7');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/ok: .* passes for openmv-h7 \(1 warning\)/);
    expect(hil('image', 'verify', join(F, 'romfs/openmv-flat.img'), '--profile', 'openmv-h7', '--partition-size', '0x20000').code).toBe(1);
  });

  it('unreadable or malformed input', () => {
    const missing = hil('image', 'verify', join(tmp, 'nope.img'), '--profile', 'openmv-h7');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`hil: ${join(tmp, 'nope.img')}: cannot read image (ENOENT)\n`);
    const junk = join(tmp, 'junk.img');
    writeFileSync(junk, 'not an image at all');
    const v = hil('image', 'verify', junk, '--profile', 'openmv-h7');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/^error: .*junk\.img: not a valid ROMFS image: bad header/);
    const i = hil('image', 'inspect', junk);
    expect(i.code).toBe(2);
    expect(i.stderr).toMatch(/^hil: .*junk\.img: not a valid ROMFS image: bad header: expected ROMFS magic d2 cd 31 \(at byte 0\)\n$/);
  });
});

describe('hil image build/verify agree with the firmware (issue 11)', () => {
  const corpus = join(F, 'romfs/corpus');
  it('verify: a header length corrupted to 0 with data after it is not ok (exit 1)', () => {
    const v = hil('image', 'verify', join(corpus, '0253-header-length-0-with-records.img'), '--profile', 'qemu-mps2-an385');
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(/^error: .*0253-header-length-0-with-records\.img: 9 bytes after the image's end .*corrupted header length/m);
    expect(v.stdout).not.toMatch(/^ok:/m);
  });
  it('verify: a file the firmware cannot open is an error naming it; a .py that does not compile names file and line', () => {
    const k = hil('image', 'verify', join(corpus, '0202-kind0-before-data-of-a-txt.img'), '--profile', 'qemu-mps2-an385');
    expect(k.code).toBe(1);
    expect(k.stdout).toMatch(/^error: .*:\/a\.txt: the firmware cannot open this file \(ENOENT\): a kind-0 record comes before its data/m);
    const py = hil('image', 'verify', join(corpus, '0148-py-syntax-error.img'), '--profile', 'qemu-mps2-an385');
    expect(py.code).toBe(1);
    expect(py.stdout).toMatch(/^error: .*:\/\S+\.py: does not compile: line \d+: SyntaxError/m);
  });
  it('build --keep-py refuses a .py with a syntax error (exit 2, nothing written)', () => {
    const src = join(tmp, 'keep-bad');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'main.py'), 'def f(:\n    pass\n');
    const b = hil('image', 'build', src, '--keep-py', '-o', join(tmp, 'keep-bad.img'));
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/main\.py:1: SyntaxError/);
    expect(existsSync(join(tmp, 'keep-bad.img'))).toBe(false);
  });
  it("build says NOT aligned (and warns per model) when the judge finds a model off its address alignment", () => {
    const src = join(tmp, 'odd-origin-src');
    mkdirSync(src, { recursive: true });
    const m = new Uint8Array(64);
    m.set([0x1c, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33]);
    writeFileSync(join(src, 'm.tflite'), m);
    writeFileSync(join(src, 'a.txt'), 'x');
    const yaml = readFileSync(join(root, 'devices/profiles/qemu-mps2-an385.yaml'), 'utf8').replace(/^name: .*$/m, 'name: odd-origin').replace('origin: 0x21000000', 'origin: 0x21000008');
    const prof = join(tmp, 'odd-origin.yaml');
    writeFileSync(prof, yaml);
    const good = hil('image', 'build', src, '--profile', prof, '-o', join(tmp, 'odd-good.img'), '--no-cache');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/, aligned for odd-origin\n/);
    const low = hil('image', 'build', src, '--profile', prof, '--align', '*.tflite=4', '-o', join(tmp, 'odd-low.img'), '--no-cache');
    expect(low.code).toBe(0);
    expect(low.stdout).toMatch(/NOT aligned for odd-origin \(1 model off alignment\)/);
    expect(low.stderr).toMatch(/^warning: .*odd-low\.img:\/m\.tflite: model data at offset \d+ \(address 0x2100[0-9a-f]+\) is not 16-byte aligned as profile odd-origin requires$/m);
    const v = hil('image', 'verify', join(tmp, 'odd-low.img'), '--profile', prof);
    expect(v.code).toBe(1);
  });
});
