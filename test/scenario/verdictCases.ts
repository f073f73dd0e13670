/**
 * Scenario folders for the verdict tests (issue 11): each a small application tree or image that
 * a freshly booted board would reject, with the scenario that checks it. Shared by the simulated
 * board's tests and QEMU's, so both boards judge the same inputs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encodeVaruint } from '../../harness/romfs/varuint.js';

export type Tree = Record<string, string | Uint8Array>;

/** Write `tree` under `dir/tree` and a scenario.yaml whose checks are `checks` (YAML lines). */
export function scenarioWithTree(dir: string, tree: Tree, checks: string[]): string {
  for (const [p, body] of Object.entries(tree)) {
    const f = join(dir, 'tree', p);
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, body);
  }
  writeFileSync(join(dir, 'scenario.yaml'), `name: ${dir.split('/').pop()}\nimage: { source: tree }\nchecks:\n${checks.map((c) => `  - ${c}\n`).join('')}`);
  return dir;
}

/** Same, with an image file instead of a source tree. */
export function scenarioWithImage(dir: string, image: Uint8Array, checks: string[], flash = 'auto'): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'image.img'), image);
  writeFileSync(join(dir, 'scenario.yaml'), `name: ${dir.split('/').pop()}\nimage: { file: image.img }\nflash: ${flash}\nchecks:\n${checks.map((c) => `  - ${c}\n`).join('')}`);
  return dir;
}

// A minimal ROMFS writer for images hil's builder would refuse or change (a .py kept as it is,
// names that are not UTF-8, folders nested deeper than a source tree may be): records as in
// MicroPython's extmod/vfs_rom.c (kind, length, payload; 4 = directory, 5 = file, 2 = data).
const cat = (...a: Uint8Array[]) => Buffer.concat(a);
const rec = (kind: number, payload: Uint8Array) => cat(encodeVaruint(kind), encodeVaruint(payload.length), payload);
const named = (name: Uint8Array, rest: Uint8Array) => cat(encodeVaruint(name.length), name, rest);
const asBytes = (s: string | Uint8Array) => (typeof s === 'string' ? Buffer.from(s, 'utf8') : s);
export type Node = { file: string | Uint8Array; data: string | Uint8Array | null } | { dir: string | Uint8Array; children: Node[] };
/** A file; `data: null` writes a file record with no data record (the firmware cannot open it). */
export const file = (name: string | Uint8Array, data: string | Uint8Array | null): Node => ({ file: name, data });
export const dir = (name: string | Uint8Array, children: Node[]): Node => ({ dir: name, children });
const encode = (n: Node): Uint8Array =>
  'file' in n ? rec(5, named(asBytes(n.file), n.data === null ? new Uint8Array(0) : rec(2, asBytes(n.data)))) : rec(4, named(asBytes(n.dir), cat(...n.children.map(encode))));
export function romfsImage(top: Node[]): Uint8Array {
  const body = cat(...top.map(encode));
  return cat(Uint8Array.of(0xd2, 0xcd, 0x31), encodeVaruint(body.length), body);
}

/** A folder `depth` levels deep holding one file. */
export function deepImage(depth: number): Uint8Array {
  let n = file('leaf.txt', 'x\n');
  for (let i = 0; i < depth; i++) n = dir('d', [n]);
  return romfsImage([n]);
}

/**
 * 1: `app.run` uses `mylib.helpers` after `import mylib` only: works in the table the discovery
 * imports leave behind (they imported mylib.helpers), fails with AttributeError on a fresh boot.
 */
export const warmImportTree: Tree = {
  'lib/mylib/__init__.py': 'def version():\n    return "1.0"\n',
  'lib/mylib/helpers.py': 'def threshold():\n    return 0.5\n',
  'app.py': 'import mylib\n\ndef run():\n    return mylib.helpers.threshold()\n',
};

/** 2: a module in a folder without __init__ (a namespace package) that does not import. */
export const namespaceTree: Tree = {
  'lib/drv/cam.py': 'import sensor_driver_that_is_not_there\n',
  'lib/drv/ok.py': 'X = 1\n',
};

/** 11: sys.exit() at import, KeyboardInterrupt in an entry point; a model so later checks have work. */
export function exitTree(model: Uint8Array): Tree {
  return {
    'lib/quitter.py': 'import sys\nsys.exit(3)\n',
    'app.py': 'def run():\n    raise KeyboardInterrupt\n\ndef stop():\n    raise SystemExit(4)\n',
    'model.tflite': model,
  };
}
