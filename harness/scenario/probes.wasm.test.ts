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
import { listingProbe, diffListing, decodeListing, type RawListingEntry, type ExpectedEntry } from './checks/listing.js';
import { importsProbe, entryProbe, judgeImports, discoverModules, type ImportsProgramAnswer, type EntryAnswer } from './checks/imports.js';
import { placementProbe, judgePlacement } from './checks/models.js';
import { inferenceProbe } from './checks/inference.js';
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


const expected = (dirs: string[], fs: typeof imageFiles): ExpectedEntry[] => [
  ...dirs.map((path) => ({ path, dir: true, size: -1 })),
  ...fs.map((f) => ({ path: f.path, dir: false, size: f.size, sha256: f.sha256 })),
];
const listing = async (root = '/rom', sha256 = true) =>
  (await runProbe<{ entries?: RawListingEntry[]; error?: string }>(board.asDevice(), listingProbe({ sha256 }, root), 'listing', 5000)).value;

describe('listing probe on MicroPython', () => {
  it('lists /rom recursively with sizes and board-computed sha256 that match the image', async () => {
    const value = await listing();
    const dirs = ['app/', 'lib/', 'lib/mylib/'];
    const board = decodeListing(value.entries!);
    expect(diffListing(expected(dirs, imageFiles), board, true)).toEqual([]);
    const model = board.find((e) => e.path === 'model.tflite');
    expect(model?.sha256).toBe(sha(files['model.tflite']!));
  });

  it('names the file whose content differs, and files the image does not hold', async () => {
    const board = decodeListing((await listing()).entries!);
    const altered = imageFiles.map((f) => (f.path === 'config.json' ? { ...f, sha256: sha('{"threshold": 0.7}') } : f)).filter((f) => f.path !== 'lib/noisy.py');
    const diffs = diffListing(expected(['app/', 'lib/', 'lib/mylib/'], altered), board, true);
    expect(diffs).toHaveLength(2);
    expect(diffs[0]).toMatch(/^config\.json: sha256 on the board /);
    expect(diffs[1]).toMatch(/^lib\/noisy\.py: on the board \(26 bytes\) but not in the image/);
  });

  it('reports a /rom that cannot be listed as such', async () => {
    const value = await listing('/nope', false);
    expect(value.error).toMatch(/\/nope cannot be listed: OSError \d+/);
  });

  it('walks a tree 63 folders deep (iteratively: no recursion limit in hil\'s program)', async () => {
    await board.execRaw("import os\np = '/deep'\nos.mkdir(p)\nfor i in range(63):\n    p += '/d'\n    os.mkdir(p)\nwith open(p + '/leaf.txt', 'w') as f:\n    f.write('x')\n");
    const value = await listing('/deep');
    expect(value.error).toBeUndefined();
    const got = decodeListing(value.entries!);
    expect(got).toHaveLength(64);
    const leaf = `${'d/'.repeat(63)}leaf.txt`;
    expect(got[63]).toEqual({ path: leaf, utf8: true, size: 1, sha256: sha('x'), error: null });
    // In the firmware's order: each folder, then what it holds.
    expect(got.slice(0, 3).map((e) => e.path)).toEqual(['d/', 'd/d/', 'd/d/d/']);
  });
});

const importOpts = (o: Partial<ImportsOptions> = {}): ImportsOptions => ({ paths: ['/rom', '/rom/lib'], modules: [], discover: true, entryPoints: [], fileUnder: '/rom/', ...o });
const importsOn = async (mods: string[], compile: string[] = []) => runProbe<ImportsProgramAnswer>(board.asDevice(), importsProbe(mods, compile), 'imports', 5000);
const entryOn = async (call: string) => (await runProbe<EntryAnswer>(board.asDevice(), entryProbe(call), 'imports', 5000)).value;

describe('imports probe on MicroPython', () => {
  it('imports every discovered module from /rom in the table it started with, and keeps tracebacks', async () => {
    const found = discoverModules(imageFiles);
    expect(found.modules).toEqual(['app', 'broken', 'mylib', 'mylib.helpers', 'noisy']);
    const { value, printed } = await importsOn(found.modules);
    expect(printed).toContain('hello from noisy');
    expect(value.clean).toBe(true);
    const { problems, details } = judgeImports({ ...value, eps: [] }, importOpts());
    expect(problems).toEqual(['import broken failed: ValueError: broken on purpose']);
    expect(details).toContain('import mylib.helpers: ok (/rom/lib/mylib/helpers.py)');
    expect(details.join('\n')).toMatch(/File "\/rom\/lib\/broken.py", line 3/);
  });

  it('calls an entry point and judges its value', async () => {
    const eps = [await entryOn('app.run'), await entryOn('mylib.version')];
    const opts = importOpts({ entryPoints: [{ call: 'app.run', expect: 0.6 }, { call: 'mylib.version', expect: '2.0' }] });
    const { problems, details } = judgeImports({ path: ['/rom', '/rom/lib'], mods: [], eps }, opts);
    expect(problems).toEqual(['mylib.version() returned "1.0.0", expected "2.0"']);
    expect(details).toContain('app.run(): returned 0.6');
  });

  it('imports again on a second run (the modules it loaded are dropped afterwards)', async () => {
    const { printed } = await importsOn(['noisy']);
    expect(printed).toContain('hello from noisy');
    const again = await importsOn(['noisy']);
    expect(again.printed).toContain('hello from noisy');
  });

  it('puts sys.modules and sys.path back before every import (a module that imports another, one that edits sys.path)', async () => {
    await board.execRaw(`import os
os.mkdir('/rom/lib/pk')
for p, t in (('pk/__init__.py', ''), ('pk/sub.py', 'X = 1'),
             ('pathhog.py', 'import sys\\nsys.path.append("/elsewhere")\\nimport pk.sub\\n'),
             ('peek.py', 'import sys, pk\\nif hasattr(pk, "sub") or "/elsewhere" in sys.path:\\n    raise ValueError("warm table")\\n')):
    with open('/rom/lib/' + p, 'w') as f:
        f.write(t)
`);
    const { value } = await importsOn(['pathhog', 'peek']);
    expect(value.clean).toBe(true);
    expect(value.mods).toEqual([['pathhog', '/rom/lib/pathhog.py', null], ['peek', '/rom/lib/peek.py', null]]);
    const r = await board.execRaw("import sys\nprint('/elsewhere' in sys.path, 'pathhog' in sys.modules)");
    expect(r.stdout.trim()).toBe('False False');
  });

  it('reports sys.exit(), KeyboardInterrupt and other BaseExceptions as that module\'s or entry point\'s failure', async () => {
    await board.execRaw("with open('/rom/lib/quitter.py', 'w') as f:\n    f.write('import sys\\nsys.exit(3)\\n')\nwith open('/rom/lib/interrupter.py', 'w') as f:\n    f.write('def run():\\n    raise KeyboardInterrupt\\n')\n");
    const { value } = await importsOn(['quitter', 'interrupter']);
    const eps = [await entryOn('interrupter.run'), await entryOn('quitter.run')];
    const { problems } = judgeImports({ ...value, eps }, importOpts({ entryPoints: [{ call: 'interrupter.run' }, { call: 'quitter.run' }] }));
    expect(problems).toEqual(['import quitter failed: SystemExit: 3', 'interrupter.run() raised: KeyboardInterrupt:', 'quitter.run() raised: SystemExit: 3']);
  });

  it('imports a module in a folder without __init__ (a namespace package), and reports it broken', async () => {
    await board.execRaw("import os\nos.mkdir('/rom/lib/drv')\nwith open('/rom/lib/drv/cam.py', 'w') as f:\n    f.write('x = (1,\\n')\n");
    const found = discoverModules([{ path: 'lib/drv/cam.py' }]);
    expect(found.modules).toEqual(['drv.cam']);
    const { value } = await importsOn(found.modules);
    const { problems } = judgeImports({ ...value, eps: [] }, importOpts());
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^import drv\.cam failed: SyntaxError/);
  });

  it('compiles the files it does not import, naming file and line of an error', async () => {
    await board.execRaw("with open('/rom/main.py', 'w') as f:\n    f.write('import app\\n\\ndef loop(:\\n    pass\\n')\nwith open('/rom/boot.py', 'w') as f:\n    f.write('import sys\\n')\n");
    const { value } = await importsOn([], ['main.py', 'boot.py']);
    expect(value.compiled).not.toBeNull();
    expect(value.compiled![0]![0]).toBe('main.py');
    expect(value.compiled![0]![1]).toMatch(/File "\/rom\/main.py", line 3/);
    expect(value.compiled![1]).toEqual(['boot.py', null]);
  });

  it('flags a missing sys.path entry and a module that does not come from /rom', async () => {
    const opts = importOpts({ paths: ['/rom', '/rom/lib', '/flash/lib'], fileUnder: '/rom/app' });
    const { value } = await importsOn(['app', 'mylib', 'json']);
    const { problems } = judgeImports({ ...value, eps: [] }, opts);
    expect(problems[0]).toMatch(/^sys\.path lacks '\/flash\/lib'/);
    expect(problems).toContain('import mylib: came from /rom/lib/mylib/__init__.py, not from /rom/app');
    expect(problems).toContain('import json: module has no __file__ (built in or frozen, not from /rom/app)');
  });
});

describe('models probes on MicroPython', () => {
  it('reports a model that cannot be used in place (not on ROMFS: no buffer protocol)', async () => {
    const { value } = await runProbe<{ models: [string, number | null, string | null, string | null][] }>(board.asDevice(), placementProbe(['model.tflite']), 'models', 5000);
    const profile = loadProfile('openmv-h7');
    const model = imageFiles.find((x) => x.path === 'model.tflite')!;
    const image = new Uint8Array(200);
    image.set(Buffer.from(files['model.tflite']!, 'latin1'), model.offset);
    const f = judgePlacement([model], value.models, image, profile);
    expect(f[0]!.problems).toHaveLength(1);
    expect(f[0]!.problems[0]).toMatch(/^model\.tflite: cannot be opened in place: TypeError/);
  });

  it('answers "no ml module" on firmware without OpenMV ml', async () => {
    const { value } = await runProbe<{ ml: boolean; why?: string }>(board.asDevice(), inferenceProbe('model.tflite', { kind: 'zeros' }, 1), 'inference', 5000);
    expect(value.ml).toBe(false);
    expect(value.why).toMatch(/^no ml module on this firmware \(/);
  });
});
