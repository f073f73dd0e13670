/** Board programs are read from disk once per name (not per probe, not per board), and each name answers its own file. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BoardSources, boardSource } from './program.js';
import { ConfigError } from '../errors.js';

describe('BoardSources', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const folder = (files: Record<string, string>) => {
    const d = mkdtempSync(join(tmpdir(), 'hil-sources-'));
    dirs.push(d);
    for (const [n, t] of Object.entries(files)) writeFileSync(join(d, `${n}.py`), t);
    return d;
  };

  it('reads a program once however often it is asked for, and answers its text', () => {
    const d = folder({ a: 'x = 1\n' });
    const s = new BoardSources(() => d);
    for (let i = 0; i < 17; i++) expect(s.get('a')).toBe('x = 1\n');
    expect(s.reads).toBe(1);
  });

  it('answers each name with its own file (a different program is read, not the cached one)', () => {
    const d = folder({ a: 'x = 1\n', b: 'y = 2\n' });
    const s = new BoardSources(() => d);
    expect(s.get('a')).toBe('x = 1\n');
    expect(s.get('b')).toBe('y = 2\n');
    expect(s.get('a')).toBe('x = 1\n');
    expect(s.reads).toBe(2);
  });

  it('a missing program is a ConfigError naming the file, and is looked for again when asked again', () => {
    const d = folder({});
    const s = new BoardSources(() => d);
    expect(() => s.get('nope')).toThrow(ConfigError);
    expect(() => s.get('nope')).toThrow(join(d, 'nope.py'));
    writeFileSync(join(d, 'nope.py'), 'z = 3\n');
    expect(s.get('nope')).toBe('z = 3\n');
  });

  it('boardSource answers the shipped program', () => {
    expect(boardSource('device/identify')).toContain('import');
  });
});
