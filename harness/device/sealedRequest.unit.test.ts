/** What one send of a sealed request costs the host: each code escaped and summed once, Adler-32 only for a board that may need it, nonces fresh per send. */
import { describe, expect, it } from '@jest/globals';
import { crc32 } from 'node:zlib';
import { SealedCodeCache, SealedWrapper, adler32, pyBytesLiteral, sealRequest } from './sealed.js';

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

describe('SealedCodeCache', () => {
  it('escapes and sums a code once however often it is sent, and gives what escaping and summing give', () => {
    const cache = new SealedCodeCache();
    const code = "_hil_answer({'a': '\\n\"'})\n";
    const first = cache.facts(code);
    for (let i = 0; i < 16; i++) expect(cache.facts(`${code}`)).toBe(first);
    expect(cache.computed).toBe(1);
    expect(first.body.literal).toBe(pyBytesLiteral(Buffer.from(code)));
    expect(first.crc).toBe(`c${hex8(crc32(Buffer.from(code)))}`);
    expect(first.adler).toBeUndefined();
    expect(cache.adler(first)).toBe(`a${hex8(adler32(Buffer.from(code)))}`);
  });
});

describe('sealRequest', () => {
  it('a board known to compute crc32 is sent the crc32 alone, and no Adler-32 is made for it', () => {
    const w = new SealedWrapper(true);
    w.sum = 'c';
    const req = sealRequest('_hil_answer(41)', undefined, w);
    expect(req.adler).toBeUndefined();
    expect(req.sums).toEqual([req.id]);
    expect(req.program).toContain(`"c":["${req.id}"]`);
    expect(req.program).not.toMatch(/"a[0-9a-f]{8}"/);
  });

  it('a board of unknown checksum is sent both kinds, an Adler-32 board the Adler-32 alone', () => {
    const unknown = sealRequest('_hil_answer(42)', undefined, new SealedWrapper(true));
    expect(unknown.sums).toEqual([unknown.id, unknown.adler]);
    const w = new SealedWrapper(true);
    w.sum = 'a';
    const adler = sealRequest('_hil_answer(42)', undefined, w);
    expect(adler.sums).toEqual([unknown.adler]);
  });

  it('every send of the same code gets its own nonce, and the program carries it', () => {
    const w = new SealedWrapper(true);
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const req = sealRequest('_hil_answer(1)', undefined, w);
      expect(req.nonce).toMatch(/^[0-9a-f]{16}$/);
      expect(req.program).toContain(`"n":"${req.nonce}"`);
      seen.add(req.nonce);
    }
    expect(seen.size).toBe(100);
  });

  it('the same code sent twice differs only in its nonce', () => {
    const w = new SealedWrapper(true);
    const a = sealRequest('_hil_answer(3)', undefined, w);
    const b = sealRequest('_hil_answer(3)', undefined, w);
    expect(b.program.replace(b.nonce, a.nonce)).toBe(a.program);
  });
});

describe('the definition on a board of unknown state', () => {
  it('goes with a code longer than itself, not with a shorter one; always on a board without it, never on one with it', () => {
    const unknown = new SealedWrapper(null);
    const definition = unknown.sent.literal.length + unknown.define.length;
    const short = '_hil_answer(1)\n';
    const long = `_hil_answer(${JSON.stringify('x'.repeat(definition))})\n`;
    expect(sealRequest(short, undefined, unknown).defines).toBe(false);
    expect(sealRequest(long, undefined, unknown).defines).toBe(true);
    expect(sealRequest(long, undefined, unknown).program).toContain(unknown.sent.literal);
    expect(sealRequest(short, undefined, new SealedWrapper(false)).defines).toBe(true);
    expect(sealRequest(long, undefined, new SealedWrapper(true)).defines).toBe(false);
  });
});
