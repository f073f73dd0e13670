/** The request's parameters and checksums as the board checks them: exact for every byte value and for long requests. */
import { describe, expect, it } from '@jest/globals';
import { adler32, pyBytesLiteral } from './sealed.js';

/** Adler-32 by its definition, a byte at a time (RFC 1950). */
function adler32Reference(b: Uint8Array): number {
  let a = 1;
  let c = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    c = (c + a) % 65521;
  }
  return ((c << 16) | a) >>> 0;
}

describe('adler32', () => {
  it('matches the definition, across its reduction steps and at the sums\' worst case', () => {
    expect(adler32(Buffer.from('Wikipedia'))).toBe(0x11e60398);
    expect(adler32(new Uint8Array(0))).toBe(1);
    for (const n of [1, 2047, 2048, 2049, 5552, 5553, 100_000]) {
      const ff = new Uint8Array(n).fill(0xff);
      expect(adler32(ff)).toBe(adler32Reference(ff));
      const mixed = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 0xff);
      expect(adler32(mixed)).toBe(adler32Reference(mixed));
    }
  });
});

describe('pyBytesLiteral', () => {
  it('keeps printable ASCII but the quote and backslash, escapes newline, return and tab in two characters, every other byte as \\xNN', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const short: Record<number, string> = { 0x5c: '\\\\', 0x27: "\\'", 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };
    let expected = "b'";
    for (const c of all) {
      if (short[c]) expected += short[c];
      else if (c >= 0x20 && c < 0x7f) expected += String.fromCharCode(c);
      else expected += `\\x${c.toString(16).padStart(2, '0')}`;
    }
    expect(pyBytesLiteral(all)).toBe(`${expected}'`);
    expect(pyBytesLiteral(Buffer.from('{"q": "print(\'a\\\\b\')"}'))).toBe(`b'{"q": "print(\\'a\\\\\\\\b\\')"}'`);
    // More single quotes than double: delimited by double quotes, which are then the ones escaped.
    expect(pyBytesLiteral(Buffer.from("print('a', 'b', \"c\")\n"))).toBe(`b"print('a', 'b', \\"c\\")\\n"`);
    // A view into a larger buffer: only its own bytes.
    expect(pyBytesLiteral(Buffer.from('xxabxx').subarray(2, 4))).toBe("b'ab'");
  });
});
