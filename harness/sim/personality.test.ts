/**
 * The simulated board's firmware personalities (harness/board/sim/*.py) on the real wasm
 * MicroPython through the real pty: what each port's `vfs.rom_ioctl` answers in each API
 * generation (../shared/docs/firmware.md), the flash physics per medium, and that every erase and
 * write reaches the partition file as it happens.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSim, type SimBoard } from './index.js';
import { RawLink } from './rawLink.js';
import type { FirmwareApi } from '../profile/profile.js';

const boards: SimBoard[] = [];
const links: RawLink[] = [];
async function board(opts: Parameters<typeof startSim>[0]): Promise<[SimBoard, RawLink]> {
  const b = await startSim(opts);
  boards.push(b);
  const l = b.connection.startsWith('socket://') ? await RawLink.tcp(b.connection) : await RawLink.serial(b.connection);
  links.push(l);
  await l.enterRaw();
  return [b, l];
}
afterEach(async () => {
  for (const l of links.splice(0)) await l.close();
  for (const b of boards.splice(0)) await b.stop();
});

async function run<T = unknown>(l: RawLink, code: string): Promise<T> {
  return l.json<T>(code);
}

/** What every command answers: a segment's kind instead of the object itself. */
const TABLE = `import vfs
def kind(x):
    if isinstance(x, int):
        return x
    if hasattr(x, 'ioctl'):
        return type(x).__name__
    if isinstance(x, memoryview):
        return 'memoryview'
    return type(x).__name__
n = vfs.rom_ioctl(1)
print(json.dumps([n, kind(vfs.rom_ioctl(2, 0)), vfs.rom_ioctl(3, 0, 0), vfs.rom_ioctl(5, 0), vfs.rom_ioctl(6, 0),
                  kind(vfs.rom_ioctl(2, n)), vfs.rom_ioctl(3, 0), vfs.rom_ioctl(4, 0, 0), vfs.rom_ioctl(7, 0)]))`;

// [segments, (2,0), (3,0,0), (5,0), (6,0), (2,n), (3,0), (4,0,0), (7,0)]
const EXPECTED: Record<string, Record<FirmwareApi, unknown[]>> = {
  'openmv-h7': { released: [1, 'memoryview', 16, -22, -22, -22, -22, -22, -22], master: [1, 'memoryview', 16, -22, 0x20000, -22, -22, -22, -22] },
  'openmv-h7-plus': { released: [1, 'memoryview', 4, -22, -22, -22, -22, -22, -22], master: [1, 'memoryview', 4, -22, 4096, -22, -22, -22, -22] },
  'openmv-n6': { released: [1, 'memoryview', 4, -22, -22, -22, -22, -22, -22], master: [1, 'memoryview', 4, -22, 4096, -22, -22, -22, -22] },
  'openmv-ae3': { released: [2, 'memoryview', 4, -22, -22, -22, -22, -22, -22], master: [2, 'memoryview', 4, -22, 4096, -22, -22, -22, -22] },
  // mimxrt_flash.c: (2, id) is the Flash object whatever the id; everything but 1 and 2 is -22.
  'openmv-rt1062': { released: [1, 'Flash', -22, -22, -22, 'Flash', -22, -22, -22], master: [1, 'Flash', -22, -22, -22, 'Flash', -22, -22, -22] },
  'qemu-mps2-an500': { released: [1, 'memoryview', -22, -22, -22, -22, -22, -22, -22], master: [1, 'memoryview', -22, -22, -22, -22, -22, -22, -22] },
};

describe('rom_ioctl per personality and API generation', () => {
  for (const [profile, byApi] of Object.entries(EXPECTED)) {
    for (const api of ['released', 'master'] as const) {
      it(`${profile} (${api})`, async () => {
        const [b, l] = await board({ profile, firmwareApi: api, partitionSize: profile === 'openmv-h7' ? undefined : 1 << 20 });
        expect(b.firmwareApi).toBe(api);
        expect(await run(l, TABLE)).toEqual(byApi[api]);
      });
    }
  }

  it('defaults to the API the board ships (released)', async () => {
    const [b, l] = await board({ profile: 'openmv-h7-plus', partitionSize: 1 << 16 });
    expect(b.firmwareApi).toBe('released');
    expect(await run(l, 'import vfs\nprint(json.dumps(vfs.rom_ioctl(6, 0)))')).toBe(-22);
  });
});

/** Fill blocks with a pattern, then erase with the given arguments and report which 4 KiB blocks are blank. */
const ERASE = (args: string) => `import vfs
m = vfs.rom_ioctl(2, 0)
vfs.rom_ioctl(3, 0, 16384)
for b in range(4):
    vfs.rom_ioctl(4, 0, b * 4096, bytes([0x10 + b]) * 4096)
r = vfs.rom_ioctl(3, 0, ${args})
print(json.dumps([r, [m[b * 4096] == 0xff and bytes(m[b * 4096:(b + 1) * 4096]) == b'\\xff' * 4096 for b in range(4)]]))`;

function blankBlocks(part: Uint8Array): boolean[] {
  return [0, 1, 2, 3].map((b) => part.subarray(b * 4096, (b + 1) * 4096).every((x) => x === 0xff));
}

describe('erase semantics', () => {
  it('released: (3, id, len) erases from the segment start; a 4th argument is ignored, so (3, id, off, len) erases [0, off)', async () => {
    const [b, l] = await board({ profile: 'openmv-h7-plus', partitionSize: 1 << 20 });
    expect(await run(l, ERASE('4096'))).toEqual([4, [true, false, false, false]]);
    expect(blankBlocks(b.readPartition())).toEqual([true, false, false, false]);
    expect(await run(l, ERASE('8192, 4096'))).toEqual([4, [true, true, false, false]]);
    expect(blankBlocks(b.readPartition())).toEqual([true, true, false, false]);
  });

  it('master: (3, id, off, len) erases the blocks of [off, off + len)', async () => {
    const [b, l] = await board({ profile: 'openmv-h7-plus', partitionSize: 1 << 20, firmwareApi: 'master' });
    expect(await run(l, ERASE('8192, 4096'))).toEqual([4, [false, false, true, false]]);
    expect(blankBlocks(b.readPartition())).toEqual([false, false, true, false]);
    // spiflash erases the block holding dest, then steps a block: [4000, 4200) touches only block 0.
    expect(await run(l, ERASE('4000, 200'))).toEqual([4, [true, false, false, false]]);
  });

  it('N6 XSPI (master): whole blocks from the one holding dest while a block of bytes is left', async () => {
    const [, l] = await board({ profile: 'openmv-n6', partitionSize: 1 << 20, firmwareApi: 'master' });
    expect(await run(l, ERASE('4096, 4097'))).toEqual([4, [false, true, true, false]]);
    expect(await run(l, ERASE('100, 1'))).toEqual([4, [true, false, false, false]]);
  });

  it('(3, id, 0) erases nothing and answers the min write; a range past the end is -22', async () => {
    const [b, l] = await board({ profile: 'openmv-h7-plus', partitionSize: 1 << 16 });
    expect(await run(l, `import vfs\nvfs.rom_ioctl(3, 0, 4096)\nvfs.rom_ioctl(4, 0, 0, b'keep')\nprint(json.dumps([vfs.rom_ioctl(3, 0, 0), vfs.rom_ioctl(3, 0, ${(1 << 16) + 1}), bytes(vfs.rom_ioctl(2, 0)[:4]).decode()]))`)).toEqual([4, -22, 'keep']);
    expect(Buffer.from(b.readPartition().subarray(0, 4)).toString()).toBe('keep');
  });

  it('NOR programming clears bits only: writing over data that was not erased ANDs it (no error)', async () => {
    const [b, l] = await board({ profile: 'openmv-h7-plus', partitionSize: 1 << 16 });
    expect(await run(l, "import vfs\nvfs.rom_ioctl(3, 0, 4096)\nprint(json.dumps([vfs.rom_ioctl(4, 0, 0, b'\\xf0\\x0f'), vfs.rom_ioctl(4, 0, 0, b'\\x3c\\x3c'), list(vfs.rom_ioctl(2, 0)[:2])]))")).toEqual([0, 0, [0x30, 0x0c]]);
    expect([...b.readPartition().subarray(0, 2)]).toEqual([0x30, 0x0c]);
  });
});

describe('OpenMV Cam H7 internal flash (ports/stm32/flash.c)', () => {
  it('reports min write 16 but programs 32-byte words at 32-byte offsets; len // 4 words; no reprogramming', async () => {
    const [b, l] = await board({ profile: 'openmv-h7' });
    const r = await run<unknown[]>(l, `import vfs
m = vfs.rom_ioctl(2, 0)
out = [vfs.rom_ioctl(3, 0, 256)]
out.append(vfs.rom_ioctl(4, 0, 16, b'A' * 16))          # 16-aligned, not 32: -5
out.append(vfs.rom_ioctl(4, 0, 0, b'B' * 40))           # 10 words: one flash word + 2 words padded with 0xFF
out.append(vfs.rom_ioctl(4, 0, 64, b'C' * 42))          # 10 words: the 2-byte tail is lost
out.append(vfs.rom_ioctl(4, 0, 0, b'D' * 32))           # not erased: -5
out.append(vfs.rom_ioctl(4, 0, 128, b'E' * 3))          # no whole word: nothing programmed, 0
out.append(vfs.rom_ioctl(4, 0, 160, b'F' * 64))
print(json.dumps(out))`);
    expect(r).toEqual([16, -5, 0, 0, -5, 0, 0]);
    const p = Buffer.from(b.readPartition());
    const ff = (n: number) => Buffer.alloc(n, 0xff);
    expect(p.subarray(0, 64)).toEqual(Buffer.concat([Buffer.alloc(40, 'B'), ff(24)]));
    expect(p.subarray(64, 128)).toEqual(Buffer.concat([Buffer.alloc(40, 'C'), ff(24)]));
    expect(p.subarray(128, 160)).toEqual(ff(32));
    expect(p.subarray(160, 224)).toEqual(Buffer.alloc(64, 'F'));
    expect(p.subarray(16, 32)).toEqual(Buffer.alloc(16, 'B'));
  });

  it('erases by 128 KiB sector: any length erases the whole partition sector', async () => {
    const [b, l] = await board({ profile: 'openmv-h7' });
    expect(await run(l, "import vfs\nvfs.rom_ioctl(3, 0, 32)\nvfs.rom_ioctl(4, 0, 0x10000, b'x' * 32)\nprint(json.dumps([vfs.rom_ioctl(3, 0, 1), vfs.rom_ioctl(2, 0)[0x10000]]))")).toEqual([16, 0xff]);
    expect(b.readPartition().every((x) => x === 0xff)).toBe(true);
  });

  it('--fail-writes: erase and write answer -5 and change nothing', async () => {
    const [b, l] = await board({ profile: 'openmv-h7', image: Buffer.alloc(64, 'k') });
    await b.setFailWrites(true);
    expect(await run(l, "import vfs\nprint(json.dumps([vfs.rom_ioctl(3, 0, 0), vfs.rom_ioctl(3, 0, 4096), vfs.rom_ioctl(4, 0, 4096, bytes(32))]))")).toEqual([16, -5, -5]);
    expect(Buffer.from(b.readPartition().subarray(0, 64))).toEqual(Buffer.alloc(64, 'k'));
  });
});

describe('OpenMV Cam RT1062: the mimxrt.Flash block device (ports/mimxrt/mimxrt_flash.c)', () => {
  it('ioctl, readblocks and writeblocks; a buffer but no len()', async () => {
    const [b, l] = await board({ profile: 'openmv-rt1062', partitionSize: 1 << 20 });
    const r = await run<Record<string, unknown>>(l, `import vfs, uctypes
dev = vfs.rom_ioctl(2, 0)
out = {'count': dev.ioctl(4, 0), 'size': dev.ioctl(5, 0), 'init': dev.ioctl(1, 0), 'other': dev.ioctl(9, 0)}
out['erase'] = dev.ioctl(6, 1)
out['w1'] = dev.writeblocks(1, b'\\xf0' * 8, 100)
out['w2'] = dev.writeblocks(1, b'\\x3f' * 8, 100)      # not erased first: NOR ANDs
buf = bytearray(8)
dev.readblocks(1, buf, 100)
out['read'] = list(buf)
try:
    len(dev)
    out['len'] = 'ok'
except TypeError:
    out['len'] = 'TypeError'
out['mv'] = len(memoryview(dev))
out['addr'] = uctypes.addressof(dev)
dev.writeblocks(2, b'Z' * 4096)                           # no offset: erases the sector first
out['blk2'] = bytes(memoryview(dev)[8192:8195]).decode()
print(json.dumps(out))`);
    expect(r).toEqual({ count: 256, size: 4096, init: 0, other: null, erase: 0, w1: 0, w2: 0, read: Array(8).fill(0x30), len: 'TypeError', mv: 1 << 20, addr: 0x60800000, blk2: 'ZZZ' });
    const p = b.readPartition();
    expect([...p.subarray(4096 + 100, 4096 + 108)]).toEqual(Array(8).fill(0x30));
    expect(Buffer.from(p.subarray(8192, 8192 + 4096))).toEqual(Buffer.alloc(4096, 'Z'));
  });

  it('a board that cannot write: ioctl(6) answers 1 and writeblocks raises OSError', async () => {
    const [b, l] = await board({ profile: 'openmv-rt1062', partitionSize: 1 << 16, failWrites: true });
    const r = await run(l, `import vfs
dev = vfs.rom_ioctl(2, 0)
out = [dev.ioctl(6, 0)]
try:
    dev.writeblocks(0, b'x' * 16, 0)
    out.append('written')
except OSError as e:
    out.append('OSError')
print(json.dumps(out))`);
    expect(r).toEqual([1, 'OSError']);
    expect(b.readPartition().every((x) => x === 0xff)).toBe(true);
  });
});

describe('OpenMV AE3: OSPI segment 0 and MRAM segment 1 (ports/alif/vfs_rom_ioctl.c)', () => {
  it('two segments with their own origins; MRAM needs no erase, writes 16-byte words and overwrites', async () => {
    const [b, l] = await board({ profile: 'openmv-ae3', partitionSize: 1 << 20 });
    const r = await run<unknown[]>(l, `import vfs, uctypes
m1 = vfs.rom_ioctl(2, 1)
out = [vfs.rom_ioctl(1), len(m1), uctypes.addressof(m1), uctypes.addressof(vfs.rom_ioctl(2, 0))]
out.append(vfs.rom_ioctl(4, 1, 0, b'M' * 16))
out.append(vfs.rom_ioctl(3, 1, 4096))                   # answers 16, erases nothing
out.append(bytes(m1[:16]).decode())
out.append(vfs.rom_ioctl(4, 1, 0, b'N' * 20))           # overwrites; the last word is padded
out.append(vfs.rom_ioctl(4, 1, 64, b'Q' * 16))
out.append(vfs.rom_ioctl(3, 0, 4096))
out.append(vfs.rom_ioctl(4, 0, 0, b'seg0'))
print(json.dumps(out))`);
    expect(r).toEqual([2, 1 << 20, 0x8047e000, 0xa0800000, 0, 16, 'MMMMMMMMMMMMMMMM', 0, 0, 4, 0]);
    expect(b.segmentFiles).toHaveLength(2);
    const s1 = Buffer.from(b.readSegment(1));
    expect(s1.subarray(0, 20)).toEqual(Buffer.alloc(20, 'N'));
    expect(s1.subarray(20, 32)).toEqual(Buffer.alloc(12, 0));
    expect(s1.subarray(64, 80)).toEqual(Buffer.alloc(16, 'Q'));
    expect(s1.subarray(80, 1 << 20).every((x) => x === 0)).toBe(true); // MRAM blank reads 0x00
    expect(Buffer.from(b.readSegment(0).subarray(0, 4)).toString()).toBe('seg0');
  });
});

describe('the partition file holds what the flash holds', () => {
  const PROGRAM = `import vfs
vfs.rom_ioctl(3, 0, 16384)
vfs.rom_ioctl(4, 0, 0, b'P' * 4096)
vfs.rom_ioctl(4, 0, 4096, b'Q' * 4096)`;

  it('an erase and writes survive a soft reset and machine.reset()', async () => {
    const [b, l] = await board({ profile: 'openmv-h7-plus', partitionSize: 1 << 16, image: Buffer.alloc(20000, 'o'), link: 'tcp' });
    await l.exec(PROGRAM);
    l.send('\x04');
    await l.until('soft reboot\r\n');
    await l.until('raw REPL; CTRL-B to exit\r\n>');
    const seen = "import vfs\nm = vfs.rom_ioctl(2, 0)\nprint(json.dumps([bytes(m[0:2]).decode(), bytes(m[4096:4098]).decode(), m[8192], bytes(m[16384:16386]).decode()]))";
    expect(await run(l, seen)).toEqual(['PP', 'QQ', 0xff, 'oo']);
    l.send('import machine\nmachine.reset()\x04');
    await new Promise((r) => setTimeout(r, 1000));
    await l.close();
    links.pop();
    const l2 = await RawLink.tcp(b.connection);
    links.push(l2);
    await l2.enterRaw();
    expect(await run(l2, seen)).toEqual(['PP', 'QQ', 0xff, 'oo']);
  });

  it('a flash interrupted mid-way leaves the file as it was at that point', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'hil-sim-test-'));
    const [b, l] = await board({ profile: 'openmv-h7-plus', partitionSize: 1 << 16, image: Buffer.alloc(20000, 'o'), workDir });
    l.send(`${PROGRAM}\nprint('HALF')\nimport time\ntime.sleep_ms(60000)\x04`);
    await l.until('HALF');
    await b.stop(); // the board is killed where it stands: no write-complete, no soft reset
    const p = readFileSync(b.romfsFile);
    rmSync(workDir, { recursive: true, force: true });
    expect(p.subarray(0, 4096)).toEqual(Buffer.alloc(4096, 'P'));
    expect(p.subarray(4096, 8192)).toEqual(Buffer.alloc(4096, 'Q'));
    expect(p.subarray(8192, 16384).every((x) => x === 0xff)).toBe(true);
    expect(p.subarray(16384, 20000)).toEqual(Buffer.alloc(20000 - 16384, 'o'));
  });
});

describe('memoryviews, uctypes and identity as on the board', () => {
  it('N6: a real 24 MiB segment; slicing past 16 MiB is OverflowError, bytearray_at reaches it', async () => {
    const [, l] = await board({ profile: 'openmv-n6' });
    const r = await run(l, `import vfs, uctypes
m = vfs.rom_ioctl(2, 0)
out = [len(m), uctypes.addressof(m)]
try:
    m[17 << 20:]
    out.append('sliced')
except OverflowError as e:
    out.append(str(e))
vfs.rom_ioctl(3, 0, (20 << 20) + 4096)
vfs.rom_ioctl(4, 0, 20 << 20, b'far!')
out.append(bytes(uctypes.bytearray_at(0x70800000 + (20 << 20), 4)).decode())
print(json.dumps(out))`);
    expect(r).toEqual([24 << 20, 0x70800000, 'memoryview offset too large', 'far!']);
  });

  it('machine.unique_id() is stable per board name and differs between boards', async () => {
    const UID = "import machine, binascii\nprint(json.dumps(binascii.hexlify(machine.unique_id()).decode()))";
    const [, l1] = await board({ profile: 'openmv-h7' });
    const a = await run<string>(l1, UID);
    const [, l2] = await board({ profile: 'openmv-h7' });
    const [, l3] = await board({ profile: 'openmv-h7-plus', partitionSize: 1 << 16 });
    expect(a).toMatch(/^[0-9a-f]{24}$/);
    expect(await run(l2, UID)).toBe(a);
    expect(await run(l3, UID)).not.toBe(a);
  });
});
