/**
 * Reads what the simulated `ml` module needs from a TensorFlow Lite flatbuffer: the shapes and
 * element types of subgraph 0's input and output tensors. A minimal, bounds-checked flatbuffer
 * walk (schema: Model.subgraphs = field 2; SubGraph.tensors/inputs/outputs = fields 0/1/2;
 * Tensor.shape/type = fields 0/1).
 */

export interface TensorInfo {
  shape: number[];
  /** MicroPython array typecode as OpenMV's ml reports it: 'b', 'B', 'f', 'h', 'i', ... */
  dtype: string;
  /** Bytes one tensor of this shape and type takes. */
  bytes: number;
}

export interface ModelIo {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

// TensorType enum → [typecode, element size]
const TYPES: Record<number, [string, number]> = {
  0: ['f', 4], 1: ['e', 2], 2: ['i', 4], 3: ['B', 1], 4: ['q', 8], 6: ['?', 1], 7: ['h', 2], 9: ['b', 1], 10: ['d', 8], 15: ['H', 2], 16: ['I', 4],
};

export class FlatbufferError extends Error {}

class Reader {
  private readonly view: DataView;
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private check(pos: number, n: number): void {
    if (pos < 0 || pos + n > this.b.length) throw new FlatbufferError(`flatbuffer read out of range at ${pos}`);
  }
  u8(p: number): number { this.check(p, 1); return this.view.getUint8(p); }
  u16(p: number): number { this.check(p, 2); return this.view.getUint16(p, true); }
  u32(p: number): number { this.check(p, 4); return this.view.getUint32(p, true); }
  i32(p: number): number { this.check(p, 4); return this.view.getInt32(p, true); }
  /** Absolute position of field `i` of the table at `t`, or null when absent. */
  field(t: number, i: number): number | null {
    const vt = t - this.i32(t);
    const vtSize = this.u16(vt);
    const at = 4 + 2 * i;
    if (at + 2 > vtSize) return null;
    const off = this.u16(vt + at);
    return off === 0 ? null : t + off;
  }
  table(p: number): number { return p + this.u32(p); }
  vector(p: number): { start: number; length: number } {
    const v = p + this.u32(p);
    const length = this.u32(v);
    this.check(v + 4, length);
    return { start: v + 4, length };
  }
}

export function readModelIo(buf: Uint8Array): ModelIo {
  if (buf.length < 8 || String.fromCharCode(...buf.subarray(4, 8)) !== 'TFL3') throw new FlatbufferError('not a TFLite flatbuffer (no TFL3 identifier)');
  const r = new Reader(buf);
  const root = r.table(0);
  const sgField = r.field(root, 2);
  if (sgField === null) throw new FlatbufferError('model has no subgraphs');
  const sgs = r.vector(sgField);
  if (sgs.length < 1) throw new FlatbufferError('model has no subgraphs');
  const sg = r.table(sgs.start);
  const tf = r.field(sg, 0);
  if (tf === null) throw new FlatbufferError('subgraph has no tensors');
  const tensors = r.vector(tf);
  const tensorInfo = (idx: number): TensorInfo => {
    if (idx < 0 || idx >= tensors.length) throw new FlatbufferError(`tensor index ${idx} out of range`);
    const t = r.table(tensors.start + 4 * idx);
    const sf = r.field(t, 0);
    const shape: number[] = [];
    if (sf !== null) {
      const v = r.vector(sf);
      for (let i = 0; i < v.length; i++) shape.push(r.i32(v.start + 4 * i));
    }
    const tyf = r.field(t, 1);
    const ty = tyf === null ? 0 : r.u8(tyf);
    const [dtype, size] = TYPES[ty] ?? ['B', 1];
    return { shape, dtype, bytes: shape.reduce((a, n) => a * Math.max(n, 1), 1) * size };
  };
  const list = (field: number): TensorInfo[] => {
    const f = r.field(sg, field);
    if (f === null) return [];
    const v = r.vector(f);
    const out: TensorInfo[] = [];
    for (let i = 0; i < v.length; i++) out.push(tensorInfo(r.i32(v.start + 4 * i)));
    return out;
  };
  return { inputs: list(1), outputs: list(2) };
}
