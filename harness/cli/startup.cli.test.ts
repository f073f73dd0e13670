/**
 * Start-up (issue 15): a command loads only its own module and what it needs, bin/hil.js spawned
 * (build first) with a module-load hook listing what the process imported
 * (test/startup/loadedModules.mjs). serialport is loaded only once a serial port is opened;
 * the WebAssembly MicroPython and mpy-cross only by what compiles or simulates.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../fault/spawnHil.js';

const root = repoRoot();

function loaded(args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; modules: string[]; required: string[] } {
  const r = spawnSync(process.execPath, ['--import', './test/startup/loadedModules.mjs', '--require', './test/startup/requiredModules.cjs', 'bin/hil.js', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env });
  const lines = (tag: string) => r.stderr.split('\n').filter((l) => l.startsWith(`${tag} `)).map((l) => l.slice(tag.length + 1));
  return { status: r.status, stdout: r.stdout, modules: lines('HIL_LOADED'), required: lines('HIL_REQUIRED') };
}

const commandModules = (m: string[]) => m.map((u) => /\/dist\/harness\/cli\/commands\/([\w-]+)\.js$/.exec(u)?.[1]).filter((x): x is string => !!x && x !== 'lazy').sort();
const any = (m: string[], re: RegExp) => m.some((u) => re.test(u));
const SERIALPORT = /node_modules\/(serialport|@serialport)\//;
const WASM = /node_modules\/@(micropython|pybricks)\//;

describe('hil start-up', () => {
  it('--version loads no command', () => {
    const r = loaded(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.modules.length).toBeGreaterThan(0);
    expect(commandModules(r.modules)).toEqual([]);
    expect(any(r.modules, SERIALPORT)).toBe(false);
  });

  it('image build loads the image command only, no serialport and no WebAssembly for a tree without .py', () => {
    const r = loaded(['image', 'build', '--help']);
    expect(r.status).toBe(0);
    expect(commandModules(r.modules)).toEqual(['image']);
    expect(any(r.modules, SERIALPORT)).toBe(false);
    expect(any(r.modules, WASM)).toBe(false);
  });

  it('image build of a tree loads neither the inspector, the verifier, the model checks nor the config reader', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-startup-'));
    try {
      mkdirSync(join(dir, 'tree'));
      writeFileSync(join(dir, 'tree', 'labels.txt'), 'a\nb\n');
      const r = loaded(['image', 'build', join(dir, 'tree'), '-o', join(dir, 'out.img'), '--no-cache']);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^wrote /);
      expect(any(r.modules, /\/dist\/harness\/romfs\/build\.js$/)).toBe(true);
      for (const m of [/\/romfs\/verify\.js$/, /\/romfs\/inspect\.js$/, /\/romfs\/openmvConfig\.js$/, /\/dist\/harness\/model\//, /\/cli\/imageModels\.js$/]) expect([m, any(r.modules, m)]).toEqual([m, false]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('image build loads the WebAssembly mpy-cross only when a .py is compiled, not when every .mpy comes from the cache', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hil-startup-'));
    try {
      const tree = join(dir, 'tree');
      mkdirSync(tree);
      writeFileSync(join(tree, 'app.py'), 'x = 1\n');
      writeFileSync(join(tree, 'labels.txt'), 'a\n');
      const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') };
      const build = () => loaded(['image', 'build', tree, '-o', join(dir, 'out.img'), '--profile', 'openmv-h7'], env);
      const mpyCross = (m: string[]) => m.some((p) => /node_modules\/@pybricks\/mpy-cross/.test(p));
      const first = build();
      expect(first.status).toBe(0);
      expect(first.stdout).toMatch(/1 compiled to \.mpy/);
      expect(mpyCross(first.required)).toBe(true); // compiled: loaded (the hook sees it)
      writeFileSync(join(tree, 'labels.txt'), 'a\nb\n'); // a new image, the same .py
      const again = build();
      expect(again.status).toBe(0);
      expect(again.stdout).toMatch(/1 compiled to \.mpy/);
      expect(mpyCross([...again.required, ...again.modules])).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('run builds its image with the builder alone: neither the inspector, the verifier nor the scanner is loaded', () => {
    const r = loaded(['run', 'scenarios/model-load', '--device', 'sim', '-q', '--no-history']);
    expect(r.status).toBe(0);
    expect(any(r.modules, /\/dist\/harness\/romfs\/build\.js$/)).toBe(true);
    for (const m of [/\/romfs\/index\.js$/, /\/romfs\/verify\.js$/, /\/romfs\/inspect\.js$/, /\/romfs\/scan\.js$/]) expect([m, any(r.modules, m)]).toEqual([m, false]);
  });

  it("flash loads neither the firmware's view nor the VfsRom model until a write's proof needs them", () => {
    // A flash that finds the image already on the board ends without them (flash/flashImage.ts).
    const r = loaded(['flash', '--help']);
    expect(r.status).toBe(0);
    expect(commandModules(r.modules)).toEqual(['flash']);
    for (const m of [/\/romfs\/firmwareView\.js$/, /\/romfs\/vfsRom\.js$/]) expect([m, any(r.modules, m)]).toEqual([m, false]);
  });

  it('exec loads the exec command only, and serialport only when it opens a port', () => {
    const r = loaded(['exec', '--help']);
    expect(r.status).toBe(0);
    expect(commandModules(r.modules)).toEqual(['exec']);
    expect(any(r.modules, SERIALPORT)).toBe(false);
    expect(any(r.modules, /\/dist\/harness\/romfs\//)).toBe(false);
  });

  it('exec and run with file leases (the default) do not load pg: only a PostgreSQL lease store does, at its first query', () => {
    const PG = /node_modules\/pg\//;
    const env = { ...process.env, HIL_LEASES: '' };
    for (const args of [['exec', '--device', 'sim', 'pass'], ['run', 'scenarios/model-load', '--device', 'sim', '-q']]) {
      const r = loaded(args, env);
      expect([args[0], r.status]).toEqual([args[0], 0]);
      expect([args[0], any([...r.modules, ...r.required], PG)]).toEqual([args[0], false]);
    }
  });

  it('--help (no command first) loads every command, so the list is whole', () => {
    const r = loaded(['--help']);
    expect(r.status).toBe(0);
    expect(commandModules(r.modules)).toEqual(expect.arrayContaining(['devices', 'exec', 'flash', 'image', 'repl', 'run', 'sim']));
    for (const c of ['exec', 'flash', 'image', 'run', 'sim']) expect(r.stdout).toContain(`hil ${c}`);
  });

  it('a PostgreSQL lease store whose client (pg) cannot be loaded: one line naming the store and the package, exit 3', () => {
    // withoutPg.mjs makes `pg` resolve as a missing package; nothing reaches a database.
    const r = spawnSync(process.execPath, ['--import', './test/startup/withoutPg.mjs', 'bin/hil.js', 'lease', 'list', '--leases', 'postgres://hil@127.0.0.1:9/hil'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^hil: leases in postgres 127\.0\.0\.1:9\/hil: the PostgreSQL client \(npm package pg\) cannot be loaded: /);
    expect(lines[0]).not.toMatch(/internal error/);
  });
});
