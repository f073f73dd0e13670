/**
 * A bounds-checked reader for FlatBuffers binaries (the wire format TFLite models use), written
 * from the format as FlatBuffers documents it ("FlatBuffers internals"): the buffer starts with a
 * uoffset (u32) to the root table; a table starts with an soffset (i32) back to its vtable
 * (vtable = table - soffset); a vtable is u16 vtable size, u16 table inline size, then one u16
 * per field (field n at vtable + 4 + 2n, 0 = absent: the default applies); reference fields hold
 * a u32 offset relative to the field's own position; a vector is a u32 count followed by its
 * elements; a string is a u32 byte length, the bytes and a NUL. Little-endian throughout.
 *
 * Every position is checked against the buffer before it is read: bad bytes give a
 * ModelFormatError naming what was being read and where, never a RangeError. Nothing recurses, so
 * hostile nesting cannot exhaust the stack; vector counts are checked against the bytes left, so
 * a huge count cannot make a loop run long.
 */
import { ModelFormatError } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

export type ScalarKind = 'i32' | 'u32' | 'f32' | 'i64';
const SCALAR_BYTES: Record<ScalarKind, number> = { i32: 4, u32: 4, f32: 4, i64: 8 };

export class FlatBuffer {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Throws unless [pos, pos + size) lies inside the buffer. */
  need(pos: number, size: number, what: string): void {
    if (!Number.isSafeInteger(pos) || pos < 0 || size < 0 || pos + size > this.bytes.length) {
      throw new ModelFormatError(`${what}: ${size} byte${size === 1 ? '' : 's'} at ${pos} lie outside the ${this.bytes.length}-byte model`, Math.max(0, Math.min(Number.isFinite(pos) ? pos : 0, this.bytes.length)));
    }
  }

  u8(pos: number, what: string): number {
    this.need(pos, 1, what);
    return this.view.getUint8(pos);
  }
  i8(pos: number, what: string): number {
    this.need(pos, 1, what);
    return this.view.getInt8(pos);
  }
  u16(pos: number, what: string): number {
    this.need(pos, 2, what);
    return this.view.getUint16(pos, true);
  }
  i32(pos: number, what: string): number {
    this.need(pos, 4, what);
    return this.view.getInt32(pos, true);
  }
  u32(pos: number, what: string): number {
    this.need(pos, 4, what);
    return this.view.getUint32(pos, true);
  }
  f32(pos: number, what: string): number {
    this.need(pos, 4, what);
    return this.view.getFloat32(pos, true);
  }
  /** A 64-bit integer as a JS number (exact below 2^53; zero points and sizes are far smaller), read as two words (no BigInt). */
  i64(pos: number, what: string): number {
    this.need(pos, 8, what);
    return this.view.getInt32(pos + 4, true) * 2 ** 32 + this.view.getUint32(pos, true);
  }
  u64(pos: number, what: string): number {
    this.need(pos, 8, what);
    return this.view.getUint32(pos + 4, true) * 2 ** 32 + this.view.getUint32(pos, true);
  }

  /** The target of the u32 offset stored at `pos` (relative to `pos`). */
  deref(pos: number, what: string): number {
    const target = pos + this.u32(pos, what);
    this.need(target, 0, `${what} (target)`);
    return target;
  }

  /** The root table of the buffer. */
  root(what: string): Table {
    return this.table(this.deref(0, `${what}: root offset`), what);
  }

  table(pos: number, what: string): Table {
    const soff = this.i32(pos, `${what}: vtable offset`);
    const vt = pos - soff;
    const vtSize = this.u16(vt, `${what}: vtable size`);
    const inline = this.u16(vt + 2, `${what}: table size`);
    if (vtSize < 4 || vtSize % 2 !== 0) throw new ModelFormatError(`${what}: vtable size ${vtSize} is not an even number of at least 4`, vt);
    this.need(vt, vtSize, `${what}: vtable`);
    if (inline < 4) throw new ModelFormatError(`${what}: table size ${inline} is smaller than its vtable offset`, pos);
    this.need(pos, inline, `${what}: table`);
    return new Table(this, pos, vt, vtSize, inline, what);
  }

  /** A vector at `pos` (the position of its count) of `count` elements of `elem` bytes. */
  vector(pos: number, elem: number, what: string): { start: number; count: number } {
    const count = this.u32(pos, `${what}: length`);
    const start = pos + 4;
    if (count > (this.bytes.length - start) / elem) {
      throw new ModelFormatError(`${what}: ${count} elements of ${elem} bytes do not fit in the ${this.bytes.length - start} bytes after the length`, pos);
    }
    return { start, count };
  }

  /**
   * `count` scalars of `kind` from `start`. The caller has checked the span with vector(), which
   * guarantees count * size bytes from start lie inside the buffer; checked again here in one step.
   */
  scalarsAt(start: number, count: number, kind: ScalarKind, what: string): number[] {
    const size = SCALAR_BYTES[kind];
    this.need(start, count * size, what);
    const v = this.view;
    const out = new Array<number>(count);
    for (let i = 0, p = start; i < count; i++, p += size) {
      out[i] = kind === 'i32' ? v.getInt32(p, true) : kind === 'u32' ? v.getUint32(p, true) : kind === 'f32' ? v.getFloat32(p, true) : v.getInt32(p + 4, true) * 2 ** 32 + v.getUint32(p, true);
    }
    return out;
  }

  string(pos: number, what: string): string {
    const { start, count } = this.vector(pos, 1, what);
    return utf8.decode(this.bytes.subarray(start, start + count));
  }
}

/** One table: its fields by number (the order of the schema's declaration, from 0). */
export class Table {
  constructor(
    readonly fb: FlatBuffer,
    readonly pos: number,
    private readonly vt: number,
    private readonly vtSize: number,
    private readonly inline: number,
    readonly what: string,
  ) {}

  /** Position of field `n`'s inline value, or undefined when absent. `size`: its inline bytes. */
  field(n: number, size: number, name: string): number | undefined {
    const slot = 4 + 2 * n;
    if (slot + 2 > this.vtSize) return undefined;
    const off = this.fb.u16(this.vt + slot, `${this.what}.${name}: field offset`);
    if (off === 0) return undefined;
    if (off + size > this.inline) throw new ModelFormatError(`${this.what}.${name}: field at ${off} (${size} bytes) lies outside the table's ${this.inline} bytes`, this.vt + slot);
    return this.pos + off;
  }

  u8(n: number, name: string, dflt: number): number {
    const p = this.field(n, 1, name);
    return p === undefined ? dflt : this.fb.u8(p, `${this.what}.${name}`);
  }
  i8(n: number, name: string, dflt: number): number {
    const p = this.field(n, 1, name);
    return p === undefined ? dflt : this.fb.i8(p, `${this.what}.${name}`);
  }
  bool(n: number, name: string): boolean {
    return this.u8(n, name, 0) !== 0;
  }
  i32(n: number, name: string, dflt: number): number {
    const p = this.field(n, 4, name);
    return p === undefined ? dflt : this.fb.i32(p, `${this.what}.${name}`);
  }
  u32(n: number, name: string, dflt: number): number {
    const p = this.field(n, 4, name);
    return p === undefined ? dflt : this.fb.u32(p, `${this.what}.${name}`);
  }
  u64(n: number, name: string, dflt: number): number {
    const p = this.field(n, 8, name);
    return p === undefined ? dflt : this.fb.u64(p, `${this.what}.${name}`);
  }

  /** Position of the referenced object (vector, string, table), or undefined when absent. */
  ref(n: number, name: string): number | undefined {
    const p = this.field(n, 4, name);
    return p === undefined ? undefined : this.fb.deref(p, `${this.what}.${name}`);
  }

  string(n: number, name: string): string | undefined {
    const p = this.ref(n, name);
    return p === undefined ? undefined : this.fb.string(p, `${this.what}.${name}`);
  }

  sub(n: number, name: string): Table | undefined {
    const p = this.ref(n, name);
    return p === undefined ? undefined : this.fb.table(p, `${this.what}.${name}`);
  }

  /** Scalars of a vector field. */
  scalars(n: number, name: string, kind: ScalarKind): number[] {
    const p = this.ref(n, name);
    if (p === undefined) return [];
    const what = `${this.what}.${name}`;
    const { start, count } = this.fb.vector(p, SCALAR_BYTES[kind], what);
    return this.fb.scalarsAt(start, count, kind, what);
  }

  /** Tables of a vector-of-tables field. */
  tables(n: number, name: string): Table[] {
    const p = this.ref(n, name);
    if (p === undefined) return [];
    const { start, count } = this.fb.vector(p, 4, `${this.what}.${name}`);
    const out: Table[] = [];
    for (let i = 0; i < count; i++) {
      const what = `${this.what}.${name}[${i}]`;
      out.push(this.fb.table(this.fb.deref(start + i * 4, what), what));
    }
    return out;
  }

  /** A [ubyte] vector field: where its bytes are and how many (without copying). */
  bytesOf(n: number, name: string): { start: number; count: number } | undefined {
    const p = this.ref(n, name);
    return p === undefined ? undefined : this.fb.vector(p, 1, `${this.what}.${name}`);
  }
}
