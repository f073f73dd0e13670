/**
 * The release gate agrees with the firmware (issue 11 item 7): on the corpus (truth.json, what
 * MicroPython's real VfsRom does), every file the firmware cannot open or never lists is named
 * by an error; files the firmware reads differently are named; an empty image, trailing
 * non-erased bytes and a header length corrupted to 0 are not "ok".
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { verifyStructure, type VerifyProblem } from './verify.js';
import { loadProfile } from '../profile/profile.js';
import { parseRomfs } from './parse.js';

const DIR = fileURLToPath(new URL('../../test/fixtures/romfs/corpus/', import.meta.url));
const img = (name: string) => new Uint8Array(readFileSync(DIR + name));
const qemu = loadProfile('qemu-mps2-an385');
const errors = (p: VerifyProblem[]) => p.filter((x) => x.severity === 'error');
const warnings = (p: VerifyProblem[]) => p.filter((x) => x.severity === 'warning');

type Truth = { mount: unknown; files?: Record<string, { error?: string }>; hidden?: string[] };
const truth = JSON.parse(readFileSync(`${DIR}truth.json`, 'utf8')) as Record<string, Truth & { arm32_partition?: Truth }>;
const bytesOf = (p: string) => (p.startsWith('hex:') ? Buffer.from(p.slice(4), 'hex') : Buffer.from(p, 'utf8'));

describe('verify names every file the firmware cannot open or list (whole corpus)', () => {
  const cases: [string, string][] = [];
  for (const [name, e] of Object.entries(truth)) {
    const t = e.arm32_partition ?? e;
    if (t.mount !== 'ok') continue;
    const want = new Set<string>();
    for (const [p, f] of Object.entries(t.files ?? {})) if (f.error) want.add(p);
    for (const h of t.hidden ?? []) if (t.files?.[h]) want.add(h);
    for (const w of want) cases.push([name, w]);
  }

  it('the corpus has such files', () => {
    expect(cases.length).toBeGreaterThan(100);
  });

  it.each(cases)('%s: %j', (name, path) => {
    const errs = errors(verifyStructure(img(name), qemu));
    // The error names the file (or, for a name cut by a damaged record, the part of it the
    // records hold; or a directory above it whose name the firmware resolves elsewhere).
    const W = bytesOf(path);
    const hit = errs.some((x) => {
      if (x.path === '') return path === '' && /empty name/.test(x.message);
      const Q = bytesOf(x.path);
      return W.subarray(0, Q.length).equals(Q) || Q.subarray(0, W.length).equals(W);
    });
    expect({ path, hit, errors: hit ? [] : errs }).toEqual({ path, hit: true, errors: [] });
  });
});

describe('verify on the firmware-view cases of issue 11 item 7', () => {
  it('a kind-0 record before a file\'s data: error naming the file (the firmware gives ENOENT), and the files after it are unlisted', () => {
    const e = errors(verifyStructure(img('0202-kind0-before-data-of-a-txt.img'), qemu));
    expect(e.find((x) => x.path === 'a.txt')?.message).toMatch(/cannot open this file \(ENOENT\): a kind-0 record comes before its data/);
    expect(e.find((x) => x.path === 'boot.py')?.message).toMatch(/does not list this file/);
  });

  it('a file record with no data record is ENOENT to the firmware, not an empty file', () => {
    const p = verifyStructure(img('0217-nodata-file-alone.img'), qemu);
    expect(errors(p).find((x) => x.path === 'only')?.message).toMatch(/cannot open this file \(ENOENT\): it has no data record/);
    expect(p.some((x) => x.message === 'empty file')).toBe(false);
  });

  it('a second data record: verify says the firmware reads only the first', () => {
    const e = errors(verifyStructure(img('0221-two-data-records-differ.img'), qemu));
    expect(e.find((x) => x.path === 'a.txt')?.message).toMatch(/2 data records; the firmware reads only the first/);
  });

  it('indirect pointers: data outside the image, and offsets a 32-bit board reads differently', () => {
    expect(errors(verifyStructure(img('0231-indirect-size-2-30.img'), qemu)).find((x) => x.path === 'p.bin')?.message).toMatch(/indirect data .* outside the image/);
    expect(errors(verifyStructure(img('0188-indirect-offset-2-32-plus-real.img'), qemu)).find((x) => x.path === 'p.bin')?.message).toMatch(
      /the firmware reads 8 bytes at offset 6; the file's record holds 8 bytes at offset 4294967302 \(a 32-bit board keeps only the low 32 bits\)/,
    );
  });

  it('an image with no files is a warning', () => {
    const p = verifyStructure(img('0001-empty-image-4-bytes.img'), qemu);
    expect(errors(p)).toEqual([]);
    expect(warnings(p).map((x) => x.message)).toEqual(['the image holds no files']);
  });

  it('non-erased bytes after the image are a warning', () => {
    const p = verifyStructure(img('0159-trailing-garbage.img'), qemu);
    expect(errors(p)).toEqual([]);
    expect(warnings(p).map((x) => x.message)).toEqual([expect.stringMatching(/99 bytes after the image's end \(byte 33\) are not erased/)]);
  });

  it('a header length corrupted to 0 with megabytes after it is an error, not "ok"', () => {
    const inner = img('0156-standard-app-tree.img');
    const big = new Uint8Array(2 * 1024 * 1024).fill(0xff);
    big.set([0xd2, 0xcd, 0x31, 0x00]);
    big.set(inner.subarray(4), 4);
    for (let i = inner.length; i < big.length; i++) big[i] = i & 0x7f; // megabytes of data
    const e = errors(verifyStructure(big, qemu));
    expect(e).toEqual([{ severity: 'error', path: '', message: expect.stringMatching(/not erased flash.*the image itself is empty: a corrupted header length/) }]);
    expect(errors(verifyStructure(img('0253-header-length-0-with-records.img'), qemu)).length).toBe(1);
  });

  it('an image the firmware does not mount is one error saying so', () => {
    expect(verifyStructure(img('0267-header-magic-lower-case.img'), qemu)).toEqual([
      { severity: 'error', path: '', message: expect.stringMatching(/not a valid ROMFS image: bad header.*; the firmware does not mount it \(ENODEV\)$/) },
    ]);
  });

  it('well-formed images pass: no firmware errors where the strict parse and the firmware agree', () => {
    for (const n of ['0010-one-file-hello.img', '0094-indirect-data-to-a-blob.img', '0156-standard-app-tree.img', '0112-comment-records-everywhere.img']) {
      expect([n, errors(verifyStructure(img(n), qemu))]).toEqual([n, []]);
    }
  });
});

describe('parseRomfs: strict by default, the records as they stand on request', () => {
  it('a file without data is refused by default and 0 bytes with firmwareFaults: accept', () => {
    expect(() => parseRomfs(img('0217-nodata-file-alone.img'))).toThrow(/file 'only' has no data record: the firmware cannot open it \(ENOENT\)/);
    expect(parseRomfs(img('0217-nodata-file-alone.img'), { firmwareFaults: 'accept' }).entries).toEqual([{ type: 'file', path: 'only', offset: expect.any(Number), size: 0 }]);
  });
  it('two data records, kind 0 in a file and 64-bit varuints likewise', () => {
    for (const n of ['0221-two-data-records-differ.img', '0202-kind0-before-data-of-a-txt.img', '0188-indirect-offset-2-32-plus-real.img']) {
      expect(() => parseRomfs(img(n))).toThrow();
    }
    expect(parseRomfs(img('0221-two-data-records-differ.img'), { firmwareFaults: 'accept' }).entries.length).toBeGreaterThan(0);
  });
});
