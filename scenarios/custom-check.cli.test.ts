/**
 * The custom-check contract (README, "Custom checks"), through the built CLI as a user runs it:
 * `scenarios/custom-check` runs a TypeScript and a JavaScript check module on the simulated board;
 * a TypeScript module's relative `./x.js` import finds `./x.ts`; a check's own board program is a
 * sealed query; a failing or broken module is that check's FAIL or ERR (config), never a pass and
 * never an infrastructure error that stops the other checks; a missing or non-JS/TS module file is
 * exit 2 before any board is touched.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { wasmMpyCross } from '../harness/romfs/mpyCross.js';

const root = resolve(new URL('..', import.meta.url).pathname);
const tmp = mkdtempSync(join(tmpdir(), 'hil-custom-check-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run { code: number; stdout: string; stderr: string }
async function hil(...args: string[]): Promise<Run> {
  try {
    const r = await promisify(execFile)(process.execPath, [join(root, 'bin/hil.js'), ...args], {
      cwd: root, timeout: 90_000, env: { ...process.env, NO_COLOR: '1', XDG_STATE_HOME: join(tmp, 'state') },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

interface JsonCheck { name: string; status: string; reason?: string; details: string[]; failureClass?: string }
const checksOf = (file: string): JsonCheck[] => JSON.parse(readFileSync(file, 'utf8')).devices[0].scenarios[0].checks;

/** A copy of scenarios/custom-check with scenario.yaml replaced (the image path kept absolute). */
function variant(name: string, yaml: string, files: Record<string, string> = {}): string {
  const dir = join(tmp, name);
  cpSync(join(root, 'scenarios/custom-check'), dir, { recursive: true });
  writeFileSync(join(dir, 'scenario.yaml'), `name: ${name}\nimage: { source: ${join(root, 'images/demo')} }\n${yaml}`);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

describe('custom checks (scenarios/custom-check)', () => {
  it('the example runs as written: a TypeScript and a JavaScript module pass with what they read on the board', async () => {
    const json = join(tmp, 'example.json');
    const r = await hil('run', 'scenarios/custom-check', '--device', 'sim', '--json', json);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const byName = Object.fromEntries(checksOf(json).map((c) => [c.name, c]));
    expect(Object.keys(byName)).toEqual(['listing', 'config:config.json', 'heap:app']);
    expect(byName['config:config.json']!.status).toBe('passed');
    expect(byName['config:config.json']!.details).toEqual(['/rom/config.json: 78 bytes on the board, 78 in the image', 'threshold: 0.6']);
    expect(byName['heap:app']!.status).toBe('passed');
    expect(byName['heap:app']!.details[0]).toMatch(/^after import app: \d+ bytes free, \d+ allocated$/);
  });

  it('a requirement the board does not meet is FAIL naming the key; the run exits 1', async () => {
    const dir = variant('strict', 'checks:\n  - module: { path: ./config-on-board.ts, options: { require: { threshold: 0.7 } } }\n  - module: { path: ./heap-after-import.js, options: { minFreeBytes: 1000000000 } }\n');
    const json = join(tmp, 'strict.json');
    const r = await hil('run', dir, '--device', 'sim', '--json', json);
    expect(r.code).toBe(1);
    const [config, heap] = checksOf(json);
    expect(config).toMatchObject({ status: 'failed', reason: 'threshold is 0.6 on the board, expected 0.7' });
    expect(heap!.status).toBe('failed');
    expect(heap!.reason).toMatch(/^\d+ bytes free after import app, need 1000000000$/);
  });

  it("a TypeScript module's relative ./x.js import finds ./x.ts, and types are erased on load", async () => {
    const dir = variant('tsimport', 'checks:\n  - module: ./typed.ts\n', {
      'verdict.ts': "export type Status = 'passed' | 'failed';\nexport const verdict = (ok: boolean): Status => (ok ? 'passed' : 'failed');\n",
      'typed.ts': [
        "import { verdict } from './verdict.js';",
        "import type { ModuleCheckContext } from '../../harness/index.js';",
        'interface Answer { value: { free: number } }',
        'enum Unit { Byte = 1 }',
        'export async function check(ctx: ModuleCheckContext): Promise<object> {',
        "  const a = (await ctx.query('board/heap_after_import.py', { module: 'app' })) as Answer;",
        "  return { name: 'typed', status: verdict(a.value.free * Unit.Byte > 0), durationMs: 1, details: [`free ${a.value.free}`] };",
        '}',
      ].join('\n'),
    });
    const json = join(tmp, 'tsimport.json');
    const r = await hil('run', dir, '--device', 'sim', '--json', json);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(checksOf(json)[0]).toMatchObject({ name: 'typed', status: 'passed' });
  });

  it('a module that does not load is ERR (config) naming it; the checks after it still run', async () => {
    const dir = variant('broken', 'checks:\n  - module: ./broken.ts\n  - listing\n', { 'broken.ts': 'export async function check(ctx: {, ) {\n' });
    const json = join(tmp, 'broken.json');
    const r = await hil('run', dir, '--device', 'sim', '--json', json);
    expect(r.code).toBe(3);
    const [broken, listing] = checksOf(json);
    expect(broken!.status).toBe('error');
    expect(broken!.reason).toContain(`${join(dir, 'broken.ts')}: check module did not load: SyntaxError: ${join(dir, 'broken.ts')}:1:`);
    expect(listing!.status).toBe('passed');
  });

  it("a check's board program must stay inside the module's folder", async () => {
    const dir = variant('escape', 'checks:\n  - module: ./escape.js\n  - listing\n', {
      'escape.js': "export async function check(ctx) { await ctx.query('../../harness/board/scenario/listing.py'); return { status: 'passed' }; }\n",
    });
    const json = join(tmp, 'escape.json');
    const r = await hil('run', dir, '--device', 'sim', '--json', json);
    expect(r.code).toBe(3);
    const [escape, listing] = checksOf(json);
    expect(escape!.status).toBe('error');
    expect(escape!.reason).toContain("board program '../../harness/board/scenario/listing.py' must be a path inside");
    expect(listing!.status).toBe('passed');
  });

  it('a module file that does not exist, or is not JavaScript or TypeScript, is exit 2 before any board is touched', async () => {
    const missing = variant('missing', 'checks:\n  - module: ./nope.ts\n');
    let r = await hil('run', missing, '--device', 'sim');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`hil: ${join(missing, 'scenario.yaml')}: field 'checks[0].module' names ${join(missing, 'nope.ts')}, which does not exist\n`);
    expect(r.stdout).toBe('');
    const wrong = variant('wrong', 'checks:\n  - module: { path: ./board/read_json.py }\n');
    r = await hil('run', wrong, '--device', 'sim');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/field 'checks\[0\]\.module\.path' must name a \.js, \.mjs, \.ts or \.mts file/);
  });

  it("the example's board programs compile with mpy-cross", async () => {
    for (const f of ['read_json.py', 'heap_after_import.py']) {
      const src = readFileSync(join(root, 'scenarios/custom-check/board', f));
      expect((await wasmMpyCross().compile(src, f, f))[0]).toBe(0x4d);
    }
  });
});
