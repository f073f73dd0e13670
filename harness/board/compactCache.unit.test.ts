/** Board programs are compacted once per distinct text (not per send, not per board), and what the cache answers is what compacting gives. */
import { describe, expect, it } from '@jest/globals';
import { CompactCache, compactPython } from './compact.js';
import { boardSource, compactBoardProgram, paramsLine } from './program.js';

describe('CompactCache', () => {
  it('compacts a source once however often it is asked for, and answers the same text', () => {
    const cache = new CompactCache();
    const src = boardSource('device/identify');
    const first = cache.compact(src);
    for (let i = 0; i < 16; i++) expect(cache.compact(`${src}`)).toBe(first);
    expect(cache.computed).toBe(1);
    expect(first).toBe(compactPython(src));
    expect(first.length).toBeLessThan(src.length);
  });

  it('compactBoardProgram compacts only the source: the same compacted text after whatever parameters', () => {
    const body = compactPython(boardSource('flash/skip_probe'));
    for (const params of [{ id: 0, length: 1 }, { id: 1, length: 4096 }, { n: "a'b#c\n" }]) expect(compactBoardProgram('flash/skip_probe', params)).toBe(paramsLine(params) + body);
  });
});
