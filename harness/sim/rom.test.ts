/**
 * The simulated board's /rom as the firmware's VfsRom mounted over segment 0 (harness/board/sim/
 * romvfs.py over hil's reader model): imports of .py and .mpy, packages, /rom/lib on sys.path,
 * UTF-8 names, read-only, chdir as VfsRom allows it, and files past 16 MiB of a 24 MiB segment
 * used in place. Real wasm MicroPython through the real pty.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSim, type SimBoard } from './index.js';
import { RawLink } from './rawLink.js';
import { buildImage } from '../romfs/build.js';
import { wasmMpyCross } from '../romfs/mpyCross.js';
import { mountVfsRom } from '../romfs/vfsRom.js';

const boards: SimBoard[] = [];
const links: RawLink[] = [];
async function board(opts: Parameters<typeof startSim>[0]): Promise<RawLink> {
  const b = await startSim(opts);
  boards.push(b);
  const l = await RawLink.serial(b.connection);
  links.push(l);
  await l.enterRaw();
  return l;
}
afterEach(async () => {
  for (const l of links.splice(0)) await l.close();
  for (const b of boards.splice(0)) await b.stop();
});

async function imageOf(files: Record<string, string | Uint8Array>): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'hil-sim-rom-'));
  try {
    for (const [p, data] of Object.entries(files)) {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), data);
    }
    return (await buildImage({ sourceDir: dir, keepPy: true, cacheDir: false })).bytes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('/rom on the simulated board', () => {
  it('imports .py and .mpy, packages and /rom/lib modules; read-only; chdir to its root only', async () => {
    const mpy = await wasmMpyCross().compile(Buffer.from("Y = 'from mpy'\n"), 'fast.py', 'fast.py');
    const image = await imageOf({
      'top.py': "X = 'from py'\n",
      'fast.mpy': mpy,
      'pkg/__init__.py': 'from . import sub\n',
      'pkg/sub.py': 'Z = 3\n',
      'lib/libmod.py': "L = 'from lib'\n",
    });
    const l = await board({ profile: 'openmv-h7-plus', partitionSize: 1 << 20, image });
    const r = await l.json<Record<string, unknown>>(`import os, sys
import top, fast, pkg, libmod
out = {'vals': [top.X, fast.Y, pkg.sub.Z, libmod.L], 'files': [top.__file__, fast.__file__, pkg.__file__, libmod.__file__]}
out['path'] = sys.path[:4]
out['top'] = sorted(os.listdir('/rom'))
try:
    open('/rom/new.txt', 'w')
    out['write'] = 'written'
except OSError as e:
    out['write'] = e.args[0]
os.chdir('/rom')
out['cwd'] = os.getcwd()
out['rel'] = open('top.py').read()
try:
    os.chdir('/rom/lib')
    out['chdir_sub'] = 'ok'
except OSError as e:
    out['chdir_sub'] = e.args[0]
print(json.dumps(out))`);
    expect(r).toEqual({
      vals: ['from py', 'from mpy', 3, 'from lib'],
      files: ['/rom/top.py', '/rom/fast.mpy', '/rom/pkg/__init__.py', '/rom/lib/libmod.py'],
      path: ['', '.frozen', '/rom', '/rom/lib'],
      top: ['fast.mpy', 'lib', 'pkg', 'top.py'],
      write: 30, // EROFS
      cwd: '/rom',
      rel: "X = 'from py'\n",
      chdir_sub: 95, // EOPNOTSUPP: VfsRom changes directory only to its root
    });
  });

  it('mounts UTF-8 names and imports a module named in UTF-8 (corpus image 0071)', async () => {
    const image = readFileSync('test/fixtures/romfs/corpus/0071-utf8-cjk-names.img');
    const l = await board({ profile: 'openmv-h7-plus', partitionSize: 1 << 16, image });
    const r = await l.json(`import os
m = __import__('中文')
print(json.dumps([os.listdir('/rom'), m.where(), m.__file__, open('/rom/日本語.txt', 'rb').read().hex()]))`);
    expect(r).toEqual([['日本語.txt', '中文.py'], 'zh', '/rom/中文.py', Buffer.from(image.subarray(24, 26)).toString('hex')]);
  });

  it('mounts nothing over an erased partition (ENODEV), and sys.path has no /rom then', async () => {
    const l = await board({ profile: 'openmv-h7-plus', partitionSize: 1 << 16 });
    const r = await l.json(`import os, sys, vfs
try:
    os.listdir('/rom')
    ls = 'listed'
except OSError as e:
    ls = 'OSError'  # (ENOENT from the wasm port's posix root carries emscripten's number)
try:
    vfs.VfsRom(vfs.rom_ioctl(2, 0))
    m = 'mounted'
except OSError as e:
    m = e.args[0]
print(json.dumps([ls, m, '/rom' in sys.path]))`);
    expect(r).toEqual(['OSError', 19, false]);
  });

  it('N6: a file past 16 MiB of the 24 MiB segment is used in place (address, memoryview, hash)', async () => {
    const big = new Uint8Array(17 << 20).fill(0x5a);
    const image = await imageOf({ 'big.bin': big, 'tail.txt': 'past sixteen' });
    const after = mountVfsRom(image).open('/tail.txt');
    expect(after.offset).toBeGreaterThan(16 << 20);
    const l = await board({ profile: 'openmv-n6', image });
    const r = await l.json(`import uctypes, hashlib, binascii, vfs
f = open('/rom/tail.txt', 'rb')
m = memoryview(f)
print(json.dumps([uctypes.addressof(f) - uctypes.addressof(vfs.rom_ioctl(2, 0)), len(m), bytes(m).decode(), f.read(4).decode(),
                  binascii.hexlify(hashlib.sha256(m).digest()).decode()]))`);
    expect(r).toEqual([after.offset, 12, 'past sixteen', 'past', 'c831e5b2b3f1501fee17808b2e1973cb6d1b2932cae3c79e0b8095cafa5cb07a']);
  }, 120000);
});
