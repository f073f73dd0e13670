/** The bounded cache behind compactPython and the sealed layer: each text computed once, the oldest dropped past its size, bulk never kept. */
import { describe, expect, it } from '@jest/globals';
import { TextCache } from './textCache.js';

describe('TextCache', () => {
  it('computes a text once however often it is asked for, and answers what the function gives', () => {
    const c = new TextCache((t) => t.toUpperCase(), 4);
    for (let i = 0; i < 16; i++) expect(c.get(`ab${''}`)).toBe('AB');
    expect(c.computed).toBe(1);
  });

  it('keeps at most its size, dropping the oldest', () => {
    const c = new TextCache((t) => t.length, 2);
    c.get('a = 1\n');
    c.get('b = 2\n');
    c.get('a = 1\n');
    expect(c.computed).toBe(2);
    c.get('c = 3\n');
    c.get('a = 1\n');
    expect(c.computed).toBe(4);
  });

  it('never keeps a text longer than its limit (a program carrying bulk data)', () => {
    const c = new TextCache((t) => t.length, 8, 100);
    const bulk = 'x'.repeat(101);
    expect(c.get(bulk)).toBe(101);
    expect(c.get(bulk)).toBe(101);
    expect(c.computed).toBe(2);
    c.get('y'.repeat(100));
    c.get('y'.repeat(100));
    expect(c.computed).toBe(3);
  });
});
