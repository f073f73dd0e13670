/**
 * A model of the firmware's ROMFS reader: what MicroPython's `vfs.VfsRom` on a 32-bit board
 * (every cam) does with an image, written from the behaviour of upstream `extmod/vfs_rom.c`
 * (mount, path search, ilistdir, stat) and `extmod/vfs_rom_file.c` (open, the file's buffer),
 * MicroPython v1.29.0-preview (1c3c201149). Our own code; nothing upstream is copied.
 *
 * What the firmware does and this model reproduces:
 * - varuints decode into a 32-bit `mp_uint_t`: each byte shifts the value left by 7, so bits
 *   above 32 are lost (a kind of 2^32+5 is a file record);
 * - pointers are 32-bit addresses: `record start + length` wraps mod 2^32, and every
 *   "is p before the end" test is an unsigned address comparison;
 * - nothing is bound-checked against the buffer except the image header: names, data and
 *   varuints are read wherever the records point, so the bytes past the buffer matter (erased
 *   flash of the partition on a board; `beyond()` here);
 * - search (`mp_vfs_rom_search_filesystem`): the path is a C string (cut at its first NUL), one
 *   leading '/' is skipped, records of a directory are scanned in order, the first directory or
 *   file whose name is the next path component (or an empty name before a '/') is entered; a
 *   file entered with path left over, a kind-0 record, an undecodable varuint, or a file without
 *   a data record (a data record found before any kind-0 one) ends the search with ENOENT;
 * - a file's data is its first data record (kind 2, verbatim) or indirect record (kind 3: size
 *   and offset from the start of the image's payload); a later data record is never read;
 * - ilistdir yields entries in record order, lazily; a kind-0 record or a bad name length ends
 *   the listing for good, a file whose data cannot be found ends it where it stands (a later
 *   call would go on from inside that record), unknown kinds and padding are skipped;
 * - sizes as Python sees them: `stat` and `len(memoryview(f))` give small ints (31-bit on a
 *   32-bit board, so 2^30 reads back as -2^30); ilistdir gives the size as a signed 32-bit int.
 * A loop the firmware would never leave (records that lead back to themselves) is bounded here
 * and raised as VfsRomError('hang'); a listing that never ends is an endless lazy iterator.
 *
 * Paths are what the firmware's VFS layer hands VfsRom (extmod/vfs.c, mp_vfs_lookup_path):
 * for `/rom/lib/x.py` it is `/lib/x.py`, for `/rom` it is `/`. `romPath()` turns a path inside
 * the image (`lib/x.py`, '' for the root, as truth.json writes them) into that form.
 */

export type VfsRomErrno = 'ENODEV' | 'ENOENT' | 'EISDIR' | 'EOPNOTSUPP' | 'hang';

export class VfsRomError extends Error {
  readonly errno: VfsRomErrno;
  constructor(errno: VfsRomErrno, message?: string) {
    super(message ?? errno);
    this.name = 'VfsRomError';
    this.errno = errno;
  }
}

export interface VfsRomOptions {
  /** Address of buf[0] on the board (default 0x21000000, the qemu MPS2-AN385 ROMFS partition). */
  address?: number;
  /** The byte at an offset from buf[0] outside buf (negative before it; default 0xff, erased flash). */
  beyond?: (offset: number) => number;
  /**
   * Length of the buffer the firmware is given (`bufinfo.len`), default buf.length. Larger than
   * buf.length models a partition: bytes from buf.length on come from beyond().
   */
  bufferLength?: number;
  /** Steps (bytes read, records visited) one operation may take before it counts as a hang (default 2^25). */
  maxSteps?: number;
}

export interface VfsRomEntry {
  /** The name's raw bytes (the firmware makes a str of them only for a str path; see `isMicroPythonStr`). */
  name: Uint8Array;
  type: 'dir' | 'file';
  /** As ilistdir reports it: the data length as a signed 32-bit int. */
  size: number;
  /** The data length as the firmware's size_t holds it (unsigned 32-bit). */
  length: number;
}

export interface VfsRomStat {
  type: 'dir' | 'file';
  /** st_size as os.stat reports it (a 31-bit small int on a 32-bit board). */
  size: number;
  /** The length as a 32-bit size_t (for a directory: bytes of its records). */
  length: number;
}

export interface VfsRomOpened {
  /** Data address minus the address of buf[0] (negative, or past the buffer, when the records say so). */
  offset: number;
  /** len(memoryview(f)) as Python sees it (31-bit small int). */
  size: number;
  /** Bytes the file's buffer covers (size_t). */
  length: number;
  /** True when the data is not entirely inside the buffer the firmware was given. */
  outside: boolean;
}

export interface VfsRom {
  /** Entries of a directory, in record order, lazily. Throws ENOENT (not a directory), hang. */
  ilistdir(path: Uint8Array | string): Iterator<VfsRomEntry>;
  /** Throws ENOENT, hang. */
  stat(path: Uint8Array | string): VfsRomStat;
  /** Throws ENOENT, EISDIR, hang. */
  open(path: Uint8Array | string): VfsRomOpened;
  /** `size` bytes at `offset` from buf[0], as the firmware reads them (beyond() outside the buffer given). */
  read(offset: number, size: number): Uint8Array;
  /** Offset of the first record of the image's payload, and its length as the header says (32-bit). */
  readonly payload: { offset: number; length: number };
}

const KIND_UNUSED = 0;
const KIND_DATA_VERBATIM = 2;
const KIND_DATA_POINTER = 3;
const KIND_DIRECTORY = 4;
const KIND_FILE = 5;
const KIND_FILESYSTEM = 0x14a6b1;
const SIZE_MIN = 4;

/** A 32-bit address plus n, mod 2^32. */
const add = (a: number, n: number): number => (a + n) >>> 0;
/** a - b as a 32-bit size_t. */
const diff = (a: number, b: number): number => (a - b) >>> 0;
/** How a size_t reads back as a MicroPython small int on a 32-bit board (31-bit signed). */
export const smallInt32 = (n: number): number => (n << 1) >> 1;
/** How a size_t reads back through mp_obj_new_int (mp_int_t, 32-bit signed). */
const int32 = (n: number): number => n | 0;

/**
 * MicroPython's own UTF-8 test for making a str (py/unicode.c, unicode_encoding_check): lead
 * bytes 0xf8 and up and stray continuation bytes fail, overlong forms and surrogates pass.
 * An ilistdir of a str path raises UnicodeError at the first name that fails it.
 */
export function isMicroPythonStr(bytes: Uint8Array): boolean {
  let need = 0;
  for (const c of bytes) {
    if (need) {
      if ((c & 0xc0) !== 0x80) return false;
      need--;
    } else if (c >= 0xc0) {
      if (c >= 0xf8) return false;
      need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
    } else if (c >= 0x80) return false;
  }
  return need === 0;
}

/** The path VfsRom receives for a path inside the image ('' = root, 'lib/x.py'): what `/rom/<path>` becomes. */
export function romPath(pathInImage: Uint8Array | string): Uint8Array {
  const p = typeof pathInImage === 'string' ? new TextEncoder().encode(pathInImage) : pathInImage;
  const out = new Uint8Array(p.length + 1);
  out[0] = 0x2f;
  out.set(p, 1);
  return out;
}

/** A path as the firmware reads it: UTF-8 bytes of a str, cut at the first NUL (it is a C string). */
function cString(path: Uint8Array | string): Uint8Array {
  const p = typeof path === 'string' ? new TextEncoder().encode(path) : path;
  const nul = p.indexOf(0);
  return nul < 0 ? p : p.subarray(0, nul);
}

type Stat = { kind: 'none' } | { kind: 'dir' | 'file'; size: number; data: number };

class Steps {
  private n = 0;
  constructor(private readonly max: number) {}
  tick(k = 1): void {
    this.n += k;
    if (this.n > this.max) throw new VfsRomError('hang', `the firmware would not finish this operation (over ${this.max} steps)`);
  }
}

class VfsRomModel implements VfsRom {
  private readonly base: number;
  private readonly bufLen: number;
  private readonly beyond: (offset: number) => number;
  private readonly maxSteps: number;
  /** Address of the first payload record (`self->filesystem`) and of its end (`self->filesystem_end`). */
  private readonly filesystem: number;
  private readonly filesystemEnd: number;
  private steps: Steps;

  constructor(private readonly buf: Uint8Array, opts: VfsRomOptions) {
    this.base = (opts.address ?? 0x21000000) >>> 0;
    this.bufLen = opts.bufferLength ?? buf.length;
    this.beyond = opts.beyond ?? (() => 0xff);
    this.maxSteps = opts.maxSteps ?? 2 ** 25;
    this.steps = new Steps(this.maxSteps);
    // vfs_rom_make_new: at least 4 bytes, the three magic bytes, then the image is itself a
    // record of kind 0x14a6b1 whose end must not be past the buffer (unsigned comparison).
    if (this.bufLen < SIZE_MIN) throw new VfsRomError('ENODEV', 'buffer shorter than 4 bytes');
    if (this.byteAt(this.base) !== 0xd2 || this.byteAt(add(this.base, 1)) !== 0xcd || this.byteAt(add(this.base, 2)) !== 0x31) {
      throw new VfsRomError('ENODEV', 'no ROMFS header (d2 cd 31)');
    }
    const bufEnd = add(this.base, this.bufLen);
    const r = this.extractRecord(this.base, bufEnd);
    if (r.kind !== KIND_FILESYSTEM) throw new VfsRomError('ENODEV', 'the header is not a ROMFS record');
    if (r.next > bufEnd) throw new VfsRomError('ENODEV', 'the image length is past the end of the buffer');
    this.filesystem = r.fs;
    this.filesystemEnd = r.next;
  }

  get payload(): { offset: number; length: number } {
    return { offset: this.offsetOf(this.filesystem), length: diff(this.filesystemEnd, this.filesystem) };
  }

  /** Address → offset from buf[0] as an integer (negative below it). */
  private offsetOf(addr: number): number {
    return addr - this.base;
  }

  private byteAt(addr: number): number {
    const off = diff(addr, this.base);
    if (off < this.buf.length) return this.buf[off]!;
    // Outside buf: report the offset as the integer difference of the two addresses.
    return this.beyond(addr - this.base) & 0xff;
  }

  /** mp_decode_uint_checked: undefined when the varuint reaches `max` before its last byte. */
  private decodeUint(p: number, max: number): { value: number; next: number } | undefined {
    let v = 0;
    let b: number;
    do {
      if (p >= max) return undefined;
      this.steps.tick();
      b = this.byteAt(p);
      p = add(p, 1);
      v = ((v << 7) | (b & 0x7f)) >>> 0;
    } while (b & 0x80);
    return { value: v, next: p };
  }

  /** extract_record: kind (0 when a varuint fails), the payload's address and the record's end. */
  private extractRecord(fs: number, max: number): { kind: number; fs: number; next: number } {
    const k = this.decodeUint(fs, max);
    if (!k) return { kind: KIND_UNUSED, fs, next: fs };
    const l = this.decodeUint(k.next, max);
    if (!l) return { kind: KIND_UNUSED, fs: k.next, next: k.next };
    return { kind: k.value, fs: l.next, next: add(l.next, l.value) };
  }

  /** extract_data: the first data or indirect record before `top` (a kind-0 record stops it). */
  private extractData(fs: number, top: number): { size: number; data: number } | undefined {
    const seen = new Set<number>();
    while (fs < top) {
      if (seen.has(fs)) throw new VfsRomError('hang', 'the records of a file lead back to themselves');
      seen.add(fs);
      this.steps.tick();
      const r = this.extractRecord(fs, top);
      if (r.kind === KIND_UNUSED) break;
      if (r.kind === KIND_DATA_VERBATIM) return { size: diff(r.next, r.fs), data: r.fs };
      if (r.kind === KIND_DATA_POINTER) {
        const size = this.decodeUint(r.fs, r.next);
        if (!size) break;
        const off = this.decodeUint(size.next, r.next);
        if (!off) break;
        return { size: size.value, data: add(this.filesystem, off.value) };
      }
      fs = r.next;
    }
    return undefined;
  }

  private namesEqual(path: Uint8Array, at: number, addr: number, n: number): boolean {
    for (let i = 0; i < n; i++) {
      this.steps.tick();
      if (path[at + i] !== this.byteAt(add(addr, i))) return false;
    }
    return true;
  }

  /** mp_vfs_rom_search_filesystem. */
  private search(pathIn: Uint8Array | string): Stat {
    this.steps = new Steps(this.maxSteps);
    const path = cString(pathIn);
    let fs = this.filesystem;
    let top = this.filesystemEnd;
    let at = 0;
    let len = path.length;
    if (path[0] === 0x2f) {
      at++;
      len--;
    }
    let seen = new Set<number>();
    while (len > 0 && fs < top) {
      if (seen.has(fs)) throw new VfsRomError('hang', 'the records of a directory lead back to themselves');
      seen.add(fs);
      this.steps.tick();
      const r = this.extractRecord(fs, top);
      if (r.kind === KIND_UNUSED) return { kind: 'none' };
      if (r.kind === KIND_DIRECTORY || r.kind === KIND_FILE) {
        const nl = this.decodeUint(r.fs, r.next);
        if (!nl) return { kind: 'none' };
        const n = nl.value;
        if ((n === len || (n < len && path[at + n] === 0x2f)) && this.namesEqual(path, at, nl.next, n)) {
          fs = add(nl.next, n);
          top = r.next;
          at += n;
          len -= n;
          seen = new Set<number>();
          if (r.kind === KIND_DIRECTORY) {
            if (len > 0 && path[at] === 0x2f) {
              at++;
              len--;
            }
          } else {
            if (len !== 0) return { kind: 'none' };
            const d = this.extractData(fs, top);
            if (!d) return { kind: 'none' };
            return { kind: 'file', size: d.size, data: d.data };
          }
        } else fs = r.next;
      } else fs = r.next;
    }
    if (len === 0) return { kind: 'dir', size: diff(top, fs), data: fs };
    return { kind: 'none' };
  }

  ilistdir(path: Uint8Array | string): Iterator<VfsRomEntry> {
    const st = this.search(path);
    if (st.kind !== 'dir') throw new VfsRomError('ENOENT');
    let index = st.data;
    const indexTop = add(st.data, st.size);
    // vfs_rom_ilistdir_it_iternext: each call goes on from where the last one left `index`.
    const iternext = (): VfsRomEntry | undefined => {
      this.steps = new Steps(this.maxSteps);
      const seen = new Set<number>();
      while (index < indexTop) {
        if (seen.has(index)) throw new VfsRomError('hang', 'the records of a directory lead back to themselves');
        seen.add(index);
        this.steps.tick();
        const r = this.extractRecord(index, indexTop);
        index = r.fs;
        if (r.kind === KIND_UNUSED) {
          index = indexTop;
          return undefined;
        }
        if (r.kind !== KIND_DIRECTORY && r.kind !== KIND_FILE) {
          index = r.next;
          continue;
        }
        const nl = this.decodeUint(index, r.next);
        if (!nl) {
          index = indexTop;
          return undefined;
        }
        index = nl.next;
        const n = nl.value;
        let length: number;
        if (r.kind === KIND_DIRECTORY) length = diff(diff(r.next, index), n);
        else {
          const d = this.extractData(add(index, n), r.next);
          if (!d) return undefined; // `index` stays inside this record, as the firmware leaves it
          length = d.size;
        }
        const nameAt = index;
        index = r.next;
        this.steps.tick(n);
        const name = this.read(this.offsetOf(nameAt), n);
        return { name, type: r.kind === KIND_DIRECTORY ? 'dir' : 'file', size: int32(length), length };
      }
      return undefined;
    };
    return {
      next: (): IteratorResult<VfsRomEntry> => {
        const e = iternext();
        return e ? { done: false, value: e } : { done: true, value: undefined };
      },
    };
  }

  stat(path: Uint8Array | string): VfsRomStat {
    const st = this.search(path);
    if (st.kind === 'none') throw new VfsRomError('ENOENT');
    return { type: st.kind, size: smallInt32(st.size), length: st.size };
  }

  open(path: Uint8Array | string): VfsRomOpened {
    const st = this.search(path);
    if (st.kind === 'none') throw new VfsRomError('ENOENT');
    if (st.kind === 'dir') throw new VfsRomError('EISDIR');
    const offset = this.offsetOf(st.data);
    return { offset, size: smallInt32(st.size), length: st.size, outside: offset < 0 || offset + st.size > this.bufLen };
  }

  read(offset: number, size: number): Uint8Array {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`read size ${size}`);
    const out = new Uint8Array(size);
    if (offset >= 0 && offset + size <= this.buf.length) {
      out.set(this.buf.subarray(offset, offset + size));
      return out;
    }
    const start = add(this.base, offset >>> 0);
    for (let i = 0; i < size; i++) out[i] = this.byteAt(add(start, i));
    return out;
  }
}

/** `vfs.VfsRom(buf)` on a 32-bit board. Throws VfsRomError('ENODEV') when the firmware would not mount it. */
export function mountVfsRom(buf: Uint8Array, opts: VfsRomOptions = {}): VfsRom {
  return new VfsRomModel(buf, opts);
}
