/**
 * The VfsRom model on hand-made images for what the corpus cannot show: loops the firmware never
 * leaves (a typed 'hang'), a listing that never ends (a lazy iterator), bytes past the buffer
 * from beyond(), 32-bit wrap of lengths and sizes, paths as C strings. The corpus test
 * (corpus.test.ts) compares the model with the real firmware.
 */
import { describe, expect, it } from '@jest/globals';
import { mountVfsRom, romPath, isMicroPythonStr, VfsRomError, type VfsRomEntry } from './vfsRom.js';
import { encodeVaruint } from './varuint.js';

const cat = (...parts: (Uint8Array | number[] | string)[]): Uint8Array => {
  const bs = parts.map((p) => (typeof p === 'string' ? new TextEncoder().encode(p) : Uint8Array.from(p)));
  const out = new Uint8Array(bs.reduce((n, b) => n + b.length, 0));
  let o = 0;
  for (const b of bs) {
    out.set(b, o);
    o += b.length;
  }
  return out;
};
const v = encodeVaruint;
const rec = (kind: number, payload: Uint8Array) => cat(v(kind), v(payload.length), payload);
const named = (kind: 4 | 5, name: string, ...rest: Uint8Array[]) => rec(kind, cat(v(name.length), name, ...rest));
const file = (name: string, data: string) => named(5, name, rec(2, new TextEncoder().encode(data)));
const image = (...records: Uint8Array[]) => {
  const payload = cat(...records);
  return cat([0xd2, 0xcd, 0x31], v(payload.length), payload);
};
const names = (it: Iterator<VfsRomEntry>, max = 100): string[] => {
  const out: string[] = [];
  for (let r = it.next(); !r.done && out.length < max; r = it.next()) out.push(new TextDecoder().decode(r.value.name));
  return out;
};
const errno = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof VfsRomError) return e.errno;
    throw e;
  }
  return 'no error';
};

describe('mountVfsRom', () => {
  it('mounts a plain image and reads it', () => {
    const img = image(file('a.txt', 'hello'), named(4, 'lib', file('m.py', 'x = 1\n')));
    const fs = mountVfsRom(img);
    expect(names(fs.ilistdir('/'))).toEqual(['a.txt', 'lib']);
    expect(names(fs.ilistdir(romPath('lib')))).toEqual(['m.py']);
    const f = fs.open('/lib/m.py');
    expect(new TextDecoder().decode(fs.read(f.offset, f.length))).toBe('x = 1\n');
    expect(fs.stat('/lib')).toMatchObject({ type: 'dir' });
    expect(errno(() => fs.open('/lib'))).toBe('EISDIR');
    expect(errno(() => fs.open('/nope'))).toBe('ENOENT');
    expect(errno(() => fs.ilistdir('/a.txt'))).toBe('ENOENT');
  });

  it('refuses what the firmware refuses to mount', () => {
    expect(errno(() => mountVfsRom(Uint8Array.of(0xd2, 0xcd, 0x31)))).toBe('ENODEV');
    expect(errno(() => mountVfsRom(Uint8Array.of(0x52, 0x4d, 0x31, 0)))).toBe('ENODEV');
    // Length 10 in a 4-byte buffer: past the end. In a 4 MiB partition it mounts.
    expect(errno(() => mountVfsRom(Uint8Array.of(0xd2, 0xcd, 0x31, 10)))).toBe('ENODEV');
    expect(mountVfsRom(Uint8Array.of(0xd2, 0xcd, 0x31, 10), { bufferLength: 1 << 22 }).payload).toEqual({ offset: 4, length: 10 });
  });

  it('reads names and data past the buffer from beyond()', () => {
    // A file whose data record claims 4 bytes where only 1 is in the buffer.
    const img = image(named(5, 'f', cat(v(2), v(4), 'A')));
    const trimmed = img.subarray(0, img.length);
    const payloadLen = trimmed.length - 4;
    const fs = mountVfsRom(trimmed, { bufferLength: 1 << 22, beyond: (off) => (off === trimmed.length ? 0x42 : 0xff) });
    expect(payloadLen).toBeGreaterThan(0);
    const f = fs.open('/f');
    expect(f.length).toBe(4);
    expect(f.outside).toBe(false); // inside the 4 MiB buffer the firmware was given
    expect(Array.from(fs.read(f.offset, 4))).toEqual([0x41, 0x42, 0xff, 0xff]);
  });

  it('decodes varuints into 32 bits: a kind of 2^32 + 5 is a file record', () => {
    const img = image(rec(2 ** 32 + 5, cat(v(1), 'x', rec(2, cat('data')))));
    expect(names(mountVfsRom(img).ilistdir('/'))).toEqual(['x']);
  });

  it('reports sizes as a 32-bit board does (small ints of 31 bits)', () => {
    // Indirect data of 2^30 bytes: stat and len(memoryview) give -2^30, the length stays 2^30.
    const img = image(named(5, 'p', rec(3, cat(v(2 ** 30), v(0)))));
    const fs = mountVfsRom(img);
    expect(fs.stat('/p')).toEqual({ type: 'file', size: -(2 ** 30), length: 2 ** 30 });
    expect(fs.open('/p')).toMatchObject({ size: -(2 ** 30), length: 2 ** 30, outside: true });
  });

  it('takes paths as C strings: a NUL ends them', () => {
    const fs = mountVfsRom(image(file('a', '1')));
    expect(fs.open(cat('/a', [0], 'junk')).length).toBe(1);
  });

  it('a search whose records lead back to themselves is a hang, not a stuck test', () => {
    // A padding record whose length wraps the address back to its own start (2^32 - 2 from the
    // byte after its 6-byte prefix... computed below), then a file the search never reaches.
    const prefix = 1 + 5; // kind byte + 5-byte length
    const loop = cat(v(1), v(2 ** 32 - prefix));
    expect(loop.length).toBe(prefix);
    const fs = mountVfsRom(image(loop, file('b', 'x')));
    expect(errno(() => fs.open('/b'))).toBe('hang');
    expect(errno(() => fs.ilistdir('/').next())).toBe('hang');
  });

  it('a listing that comes back to its first record is endless and lazy', () => {
    // A directory 'a', then a padding record whose length wraps back to the start of the
    // payload: every call of the iterator yields 'a' again.
    const a = named(4, 'a');
    const back = cat(v(1), v(2 ** 32 - (a.length + 6)));
    expect(back.length).toBe(6);
    const fs = mountVfsRom(image(a, back));
    const it = fs.ilistdir('/');
    expect(names(it, 6000)).toHaveLength(6000);
    expect(fs.stat('/a').type).toBe('dir'); // the search finds it at once
    expect(errno(() => fs.open('/b'))).toBe('hang'); // and never gets past it
  });

  it('a walk that does not loop but would read gigabytes of erased flash is a hang too', () => {
    // A directory record claiming 2^31 bytes: past its name the search reads 0xff bytes, and a
    // varuint of 0xff bytes only ends at the directory's (wrapped) end.
    const fs = mountVfsRom(image(cat(v(4), v(2 ** 31), v(1), 'd')), { bufferLength: 1 << 22, maxSteps: 1 << 20 });
    expect(errno(() => fs.open('/d/x'))).toBe('hang');
    expect(errno(() => fs.ilistdir('/d').next())).toBe('hang');
  });
});

describe('isMicroPythonStr', () => {
  it("follows MicroPython's lenient UTF-8 check", () => {
    expect(isMicroPythonStr(new TextEncoder().encode('café'))).toBe(true);
    expect(isMicroPythonStr(Uint8Array.of(0xc0, 0xaf))).toBe(true); // overlong: accepted
    expect(isMicroPythonStr(Uint8Array.of(0xe9))).toBe(false); // latin-1
    expect(isMicroPythonStr(Uint8Array.of(0xff))).toBe(false);
    expect(isMicroPythonStr(Uint8Array.of(0x80))).toBe(false);
  });
});
