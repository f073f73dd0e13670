/**
 * Property tests over random trees (depth, names, sizes, alignment rules): every file's data sits
 * on its rule counted from the image start, contents round-trip through the strict parser, the
 * mpremote layout round-trips too, and building is deterministic.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { planLayout } from './layout.js';
import { writeImage } from './writeImage.js';
import { parseRomfs } from './parse.js';
import { buildImage } from './build.js';
import { alignFor, type AlignRules } from './rules.js';
import type { TreeDir, TreeFile, TreeNode } from './tree.js';

const nameArb = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,20}$/).filter((s) => s !== '.' && s !== '..');
const alignArb = fc.constantFrom(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096);
const rulesArb: fc.Arbitrary<AlignRules> = fc.record({
  rules: fc.array(fc.record({ glob: fc.constantFrom('*.tflite', '*.bin', 'm*', '*.int8.*', '*'), align: alignArb }), { maxLength: 4 }),
  default: alignArb,
});

interface Spec {
  name: string;
  size?: number;
  children?: Spec[];
}
const specArb: fc.Arbitrary<Spec[]> = fc.letrec<{ node: Spec; dir: Spec[] }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ name: nameArb.map((n) => `${n}.bin`), size: fc.oneof(fc.nat(300), fc.nat(70_000)) }),
    fc.record({ name: nameArb.map((n) => `${n}.int8.tflite`), size: fc.nat(5000) }),
    fc.record({ name: nameArb, children: tie('dir') }),
  ),
  dir: fc.uniqueArray(tie('node'), { maxLength: 5, selector: (s) => s.name }),
})).dir;

function fill(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function toTree(specs: Spec[], rules: AlignRules, prefix = '', seed = { n: 1 }): TreeNode[] {
  return [...specs]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s): TreeNode => {
      const path = prefix + s.name;
      if (s.children) return { type: 'dir', name: s.name, path, children: toTree(s.children, rules, `${path}/`, seed) };
      const data = fill(s.size!, seed.n++);
      return { type: 'file', name: s.name, path, source: path, size: data.length, data, stamp: '', align: alignFor(rules, path) };
    });
}

function files(nodes: TreeNode[]): TreeFile[] {
  return nodes.flatMap((n) => (n.type === 'file' ? [n] : files(n.children)));
}

describe('random trees', () => {
  it('aligned layout: every file on its rule from the image start, contents and structure round-trip', () => {
    fc.assert(
      fc.property(specArb, rulesArb, (specs, rules) => {
        const root: TreeDir = { type: 'dir', name: '', path: '', children: toTree(specs, rules) };
        const bytes = writeImage(planLayout(root, 'aligned'));
        const parsed = parseRomfs(bytes);
        expect(parsed.imageLength).toBe(bytes.length);
        const want = new Map(files(root.children).map((f) => [f.path, f]));
        const got = parsed.entries.filter((e) => e.type === 'file');
        expect(got.length).toBe(want.size);
        for (const e of got) {
          const f = want.get(e.path)!;
          expect(e.offset % f.align).toBe(0);
          expect(e.offset % alignFor(rules, e.path)).toBe(0);
          expect(Buffer.from(bytes.subarray(e.offset, e.offset + e.size)).equals(Buffer.from(f.data!))).toBe(true);
        }
        const dirs = (nodes: TreeNode[]): string[] => nodes.flatMap((n) => (n.type === 'dir' ? [`${n.path}/`, ...dirs(n.children)] : []));
        expect(parsed.entries.filter((e) => e.type === 'dir').map((e) => e.path).sort()).toEqual(dirs(root.children).sort());
        // Deterministic.
        expect(Buffer.from(writeImage(planLayout(root, 'aligned'))).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 150, seed: 20261125 },
    );
  });

  it('mpremote layout: minimal records round-trip and the image length is even', () => {
    fc.assert(
      fc.property(specArb, (specs) => {
        const root: TreeDir = { type: 'dir', name: '', path: '', children: toTree(specs, { rules: [], default: 1 }) };
        const bytes = writeImage(planLayout(root, 'mpremote'));
        expect(bytes.length % 2).toBe(0);
        const parsed = parseRomfs(bytes);
        const want = new Map(files(root.children).map((f) => [f.path, f.data!]));
        for (const e of parsed.entries) {
          if (e.type !== 'file') continue;
          expect(Buffer.from(bytes.subarray(e.offset, e.offset + e.size)).equals(Buffer.from(want.get(e.path)!))).toBe(true);
        }
      }),
      { numRuns: 100, seed: 7 },
    );
  });
});

describe('random trees on disk through buildImage', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hil-romfs-prop-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  let run = 0;
  it('every file aligned per rules and byte-identical to its source', async () => {
    await fc.assert(
      fc.asyncProperty(specArb, rulesArb, async (specs, rules) => {
        const dir = join(tmp, `r${run++}`);
        mkdirSync(dir);
        const root = toTree(specs, rules);
        const write = (nodes: TreeNode[], base: string): void => {
          for (const n of nodes) {
            if (n.type === 'dir') {
              mkdirSync(join(base, n.name));
              write(n.children, join(base, n.name));
            } else writeFileSync(join(base, n.name), n.data!);
          }
        };
        write(root, dir);
        const r = await buildImage({ sourceDir: dir, rules, cacheDir: false });
        const want = new Map(files(root).map((f) => [f.path, f.data!]));
        for (const e of parseRomfs(r.bytes).entries) {
          if (e.type !== 'file') continue;
          expect(e.offset % alignFor(rules, e.path)).toBe(0);
          expect(Buffer.from(r.bytes.subarray(e.offset, e.offset + e.size)).equals(Buffer.from(want.get(e.path)!))).toBe(true);
        }
        rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 25, seed: 42 },
    );
  });
});
