/**
 * Reads what the simulated `ml` module needs from a TensorFlow Lite flatbuffer: the shapes and
 * element types of subgraph 0's input and output tensors, the schema version, and the facts the
 * board's outcome depends on: whether a convolution has per-channel quantized weights (its scale
 * vector is read as floats in place: a model that is not 4-byte aligned HardFaults on a Cortex-M
 * inside `ml.Model()`, issue 14), and whether the model was compiled for Ethos-U (custom op
 * `ethos-u`). A minimal, bounds-checked flatbuffer walk (tensorflow/lite/schema/schema.fbs:
 * Model.version/operator_codes/subgraphs = fields 0/1/2; OperatorCode.deprecated_builtin_code/
 * custom_code/builtin_code = fields 0/1/3; SubGraph.tensors/inputs/outputs/operators = fields
 * 0/1/2/3; Operator.opcode_index/inputs = fields 0/1; Tensor.shape/type/quantization = fields
 * 0/1/4; QuantizationParameters.scale = field 2).
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
  /** Model.version (TFLM accepts 3 only: "Unsupported model schema"). */
  version: number;
  /** A CONV_2D or DEPTHWISE_CONV_2D whose filter has more than one quantization scale. */
  perChannelConv: boolean;
  /** A custom operator `ethos-u` (compiled by Vela for the Ethos-U NPU). */
  ethosU: boolean;
}

/** BuiltinOperator codes of the convolutions (schema.fbs). */
const CONV_2D = 3;
const DEPTHWISE_CONV_2D = 4;
/** OperatorCode.deprecated_builtin_code value meaning "see builtin_code" (schema.fbs). */
const PLACEHOLDER_FOR_GREATER_OP_CODES = 127;

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
  const vf = r.field(root, 0);
  const version = vf === null ? 0 : r.u32(vf);
  // operator codes: builtin code (the int8 deprecated field, or the int32 one past 127) and custom code
  const codes: { builtin: number; custom: string | null }[] = [];
  const ocf = r.field(root, 1);
  if (ocf !== null) {
    const v = r.vector(ocf);
    for (let i = 0; i < v.length; i++) {
      const oc = r.table(v.start + 4 * i);
      const df = r.field(oc, 0);
      const dep = df === null ? 0 : (r.u8(df) << 24) >> 24;
      const bf = r.field(oc, 3);
      const builtin = bf !== null ? r.i32(bf) : dep;
      const cf = r.field(oc, 1);
      let custom: string | null = null;
      if (cf !== null) {
        const sv = r.vector(cf);
        custom = Buffer.from(buf.subarray(sv.start, sv.start + sv.length)).toString('latin1');
      }
      codes.push({ builtin: dep === PLACEHOLDER_FOR_GREATER_OP_CODES && bf !== null ? builtin : Math.max(dep, builtin), custom });
    }
  }
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
  const scales = (idx: number): number => {
    if (idx < 0 || idx >= tensors.length) return 0;
    const t = r.table(tensors.start + 4 * idx);
    const qf = r.field(t, 4);
    if (qf === null) return 0;
    const sf = r.field(r.table(qf), 2);
    return sf === null ? 0 : r.vector(sf).length;
  };
  let perChannelConv = false;
  const opf = r.field(sg, 3);
  if (opf !== null) {
    const ops = r.vector(opf);
    for (let i = 0; i < ops.length && !perChannelConv; i++) {
      const op = r.table(ops.start + 4 * i);
      const cf = r.field(op, 0);
      const code = codes[cf === null ? 0 : r.u32(cf)];
      if (!code || (code.builtin !== CONV_2D && code.builtin !== DEPTHWISE_CONV_2D)) continue;
      const inf = r.field(op, 1);
      if (inf === null) continue;
      const ins = r.vector(inf);
      if (ins.length >= 2 && scales(r.i32(ins.start + 4)) > 1) perChannelConv = true;
    }
  }
  const ethosU = codes.some((c) => c.custom === 'ethos-u');
  return { inputs: list(1), outputs: list(2), version, perChannelConv, ethosU };
}
