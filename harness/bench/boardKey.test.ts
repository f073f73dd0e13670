/**
 * Lease keys are the board's identity, one board listed twice is refused before anything starts,
 * --out folders are safe and unique, and a failed simulated-board start leaves no folder.
 */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { boardKey, boardKeys } from './boardKey.js';
import { outDirNames } from './runBench.js';
import { main } from '../cli/main.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const work = mkdtempSync(join(tmpdir(), 'hil-boardkey-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lease key = board identity', () => {
  it('socket://localhost:P and socket://127.0.0.1:P are one board; other ports are not', async () => {
    const a = await boardKey({ connection: 'socket://localhost:4321' });
    expect(await boardKey({ connection: 'socket://127.0.0.1:4321' })).toBe(a);
    expect(await boardKey({ connection: 'tcp:127.0.0.1:4321' })).toBe(a);
    expect(await boardKey({ connection: 'socket://127.0.0.1:4322' })).not.toBe(a);
  });

  it('a tty is keyed by its real path (a symlink to it is the same board)', async () => {
    const link = join(work, 'ttyLink');
    symlinkSync('/dev/null', link);
    expect(await boardKey({ connection: link })).toBe(await boardKey({ connection: '/dev/null' }));
  });

  it('each qemu or sim run gets its own key (independent jobs never queue on one)', async () => {
    for (const c of ['sim', 'sim:openmv-h7', 'qemu']) {
      const k1 = await boardKey({ connection: c });
      expect(await boardKey({ connection: c })).not.toBe(k1);
    }
  });

  it('two entries that are one board are refused, naming both', async () => {
    await expect(boardKeys([{ name: 'cam1', connection: 'socket://localhost:5000' }, { name: 'cam2', connection: 'socket://127.0.0.1:5000' }])).rejects.toThrow(
      /devices 'cam1' \(socket:\/\/localhost:5000\) and 'cam2' \(socket:\/\/127\.0\.0\.1:5000\) are the same board/,
    );
    await expect(boardKeys([{ name: 's1', connection: 'sim' }, { name: 's2', connection: 'sim' }])).resolves.toHaveLength(2);
  });

  it('hil run with a bench listing one board twice: exit 2 before anything starts, one line naming both', async () => {
    const bench = join(work, 'bench.yaml');
    writeFileSync(bench, 'devices:\n  a: { profile: openmv-h7, connection: socket://localhost:5001 }\n  b: { profile: openmv-h7, connection: socket://127.0.0.1:5001 }\n');
    let err = '';
    jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['run', join(root, 'scenarios/model-load'), '--bench', bench, '--lease-wait', '0'])).toBe(2);
    } finally {
      jest.restoreAllMocks();
      process.exitCode = undefined;
    }
    // One line for the error (after the note saying which bench was read).
    expect(err.trim().split('\n').filter((l) => !l.startsWith('hil: bench '))).toHaveLength(1);
    expect(err).toMatch(/devices 'a' .* and 'b' .* are the same board/);
  });
});

describe('--out device folders', () => {
  it('stay inside --out and never share a folder', () => {
    const names = ['..', '.', 'a/b', 'a_b', '../../etc', 'cam1', 'results.json', '.hidden', ''];
    const m = outDirNames(names);
    const dirs = names.map((n) => m.get(n)!);
    expect(new Set(dirs).size).toBe(names.length);
    const out = join(work, 'out');
    for (const d of dirs) {
      const rel = relative(out, join(out, d));
      expect(rel.startsWith('..') || rel === '' || rel.includes('/')).toBe(false);
    }
    expect(m.get('cam1')).toBe('cam1'); // a plain name is kept
    expect(m.get('a_b')).toBe('a_b');
    expect(m.get('a/b')).not.toBe('a_b');
    expect(outDirNames(['sim:openmv-h7']).get('sim:openmv-h7')).toBe('sim_openmv-h7'); // readable when nothing collides
  });
});

describe('a failed simulated-board start removes its folder', () => {
  it('startSim that does not come up within its deadline leaves no hil-sim-* folder', async () => {
    const tmp = join(work, 'simtmp');
    mkdirSync(tmp);
    const old = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const { startSim } = await import('../sim/startSim.js');
      await expect(startSim({ profile: 'openmv-h7', timeoutMs: 1 })).rejects.toThrow(/did not come up/);
    } finally {
      if (old === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = old;
    }
    expect(readdirSync(tmp)).toEqual([]);
  });
});
