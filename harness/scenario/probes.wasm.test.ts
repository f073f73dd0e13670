/**
 * The board-side probe programs, run by real MicroPython (the WebAssembly port) against a `/rom`
 * FOLDER in its in-memory filesystem, through the WasmBoard test double (test/doubles/wasmBoard.ts:
 * `execRaw` of the Device interface by calling MicroPython's runPython); it has no ROMFS, so
 * `uctypes.addressof(open(p, 'rb'))` fails there as it would on a non-ROMFS filesystem. Used to prove
 * the probes' Python runs on MicroPython and that the host judges its answers correctly.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it, beforeAll } from '@jest/globals';
import { WasmBoard } from '../../test/doubles/wasmBoard.js';
import { loadProfile } from '../profile/profile.js';
import { listingProbe, diffListing, type BoardListing } from './checks/listing.js';
import { importsProbe, judgeImports, discoverModules, type ImportsAnswer } from './checks/imports.js';
import { placementProbe, inferenceProbe, judgePlacement } from './checks/models.js';
import { runProbe } from './probe.js';
import type { ImportsOptions } from './definition.js';

const files: Record<string, string> = {
  'app/__init__.py': 'import json\n\ndef run():\n    with open("/rom/config.json") as f:\n        return json.load(f)["threshold"]\n',
  'config.json': '{"threshold": 0.6}',
  'lib/mylib/__init__.py': 'from . import helpers\n\ndef version():\n    return helpers.VERSION\n',
  'lib/mylib/helpers.py': 'VERSION = "1.0.0"\n',
  'lib/broken.py': 'import json\nx = 1\nraise ValueError("broken on purpose")\n',
  'lib/noisy.py': 'print("hello from noisy")\n',
  'model.tflite': '\x1c\x00\x00\x00TFL3 not really a model',
};
const sha = (s: string) => createHash('sha256').update(Buffer.from(s, 'latin1')).digest('hex');
const imageFiles = Object.entries(files).map(([path, s], i) => ({ path, size: Buffer.byteLength(s, 'latin1'), offset: i * 16, sha256: sha(s) }));

let board: WasmBoard;
beforeAll(async () => {
  board = await WasmBoard.create();
  const mk = Object.entries(files).map(([p, s]) => `_w(${JSON.stringify(p)}, ${JSON.stringify(Buffer.from(s, 'latin1').toString('hex'))})`).join('\n');
  await board.execRaw(`import os, sys, binascii
for d in ('/rom', '/rom/app', '/rom/lib', '/rom/lib/mylib'):
    os.mkdir(d)
def _w(p, h):
    with open('/rom/' + p, 'wb') as f:
        f.write(binascii.unhexlify(h))
${mk}
sys.path.append('/rom')
sys.path.append('/rom/lib')
`);
});

const importOpts = (o: Partial<ImportsOptions> = {}): ImportsOptions => ({ paths: ['/rom', '/rom/lib'], modules: [], discover: true, entryPoints: [], fileUnder: '/rom/', ...o });

describe('listing probe on MicroPython', () => {
  it('lists /rom recursively with sizes and board-computed sha256 that match the image', async () => {
    const { value } = await runProbe<{ entries: BoardListing }>(board.asDevice(), listingProbe({ sha256: true }), 'listing', 5000);
    const dirs = ['app/', 'lib/', 'lib/mylib/'];
    expect(diffListing(dirs, imageFiles, value.entries, true)).toEqual([]);
    const model = value.entries.find((e) => e[0] === 'model.tflite');
    expect(model?.[2]).toBe(sha(files['model.tflite']!));
  });

  it('names the file whose content differs, and files the image does not hold', async () => {
    const { value } = await runProbe<{ entries: BoardListing }>(board.asDevice(), listingProbe({ sha256: true }), 'listing', 5000);
    const altered = imageFiles.map((f) => (f.path === 'config.json' ? { ...f, sha256: sha('{"threshold": 0.7}') } : f)).filter((f) => f.path !== 'lib/noisy.py');
    const diffs = diffListing(['app/', 'lib/', 'lib/mylib/'], altered, value.entries, true);
    expect(diffs).toHaveLength(2);
    expect(diffs[0]).toMatch(/^config\.json: sha256 on the board /);
    expect(diffs[1]).toMatch(/^lib\/noisy\.py: on the board \(26 bytes\) but not in the image/);
  });

  it('reports a /rom that cannot be listed as such', async () => {
    const { value } = await runProbe<{ error?: string }>(board.asDevice(), listingProbe({ sha256: false }, '/nope'), 'listing', 5000);
    expect(value.error).toMatch(/\/nope cannot be listed: OSError \d+/);
  });
});

describe('imports probe on MicroPython', () => {
  it('imports every discovered module fresh from /rom, calls entry points, and keeps tracebacks', async () => {
    const found = discoverModules(imageFiles);
    expect(found.modules).toEqual(['app', 'broken', 'mylib', 'mylib.helpers', 'noisy']);
    const opts = importOpts({ entryPoints: [{ call: 'app.run', expect: 0.6 }, { call: 'mylib.version', expect: '2.0' }] });
    const { value, printed } = await runProbe<ImportsAnswer>(board.asDevice(), importsProbe(found.modules, opts), 'imports', 5000);
    expect(printed).toContain('hello from noisy');
    const { problems, details } = judgeImports(value, opts);
    expect(problems).toEqual([
      'import broken failed: ValueError: broken on purpose',
      'mylib.version() returned "1.0.0", expected "2.0"',
    ]);
    expect(details).toContain('import mylib.helpers: ok (/rom/lib/mylib/helpers.py)');
    expect(details).toContain('app.run(): returned 0.6');
    expect(details.join('\n')).toMatch(/File "\/rom\/lib\/broken.py", line 3/);
  });

  it('imports again on a second run (fresh namespace: modules from /rom are dropped first)', async () => {
    const opts = importOpts();
    const { printed } = await runProbe<ImportsAnswer>(board.asDevice(), importsProbe(['noisy'], opts), 'imports', 5000);
    expect(printed).toContain('hello from noisy');
  });

  it('flags a missing sys.path entry and a module that does not come from /rom', async () => {
    const opts = importOpts({ paths: ['/rom', '/rom/lib', '/flash/lib'], fileUnder: '/rom/app' });
    const { value } = await runProbe<ImportsAnswer>(board.asDevice(), importsProbe(['app', 'mylib', 'json'], opts), 'imports', 5000);
    const { problems } = judgeImports(value, opts);
    expect(problems[0]).toMatch(/^sys\.path lacks '\/flash\/lib'/);
    expect(problems).toContain('import mylib: came from /rom/lib/mylib/__init__.py, not from /rom/app');
    expect(problems).toContain('import json: module has no __file__ (built in or frozen, not from /rom/app)');
  });
});

describe('models probes on MicroPython', () => {
  it('reports a model that cannot be used in place (not on ROMFS: no buffer protocol)', async () => {
    const { value } = await runProbe<{ models: [string, number | null, string | null, string | null][] }>(board.asDevice(), placementProbe(['model.tflite']), 'models', 5000);
    const profile = loadProfile('openmv-h7');
    const f = judgePlacement([imageFiles.find((x) => x.path === 'model.tflite')!], value.models, new Uint8Array(200), profile);
    expect(f[0]!.problems).toHaveLength(1);
    expect(f[0]!.problems[0]).toMatch(/^model\.tflite: cannot be opened in place: TypeError/);
  });

  it('answers "no ml module" on firmware without OpenMV ml', async () => {
    const { value } = await runProbe<{ ml: boolean; why?: string }>(board.asDevice(), inferenceProbe(['model.tflite']), 'inference', 5000);
    expect(value.ml).toBe(false);
    expect(value.why).toMatch(/^no ml module on this firmware \(/);
  });
});
