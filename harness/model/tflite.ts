/**
 * TFLite model parser: what a TFLite flatbuffer declares (schema version, subgraphs, tensors with
 * dtype, shape and quantization, operator codes with builtin names and custom codes, buffer
 * sizes), read with the bounds-checked reader (flatbuffer.ts) from the layout in schema.fbs
 * (schema.ts). Bad bytes give a ModelFormatError, nothing else.
 *
 * Operator codes follow the schema's rule for its two code fields (schema.fbs, OperatorCode;
 * TFLite's GetBuiltinCode in tensorflow/compiler/mlir/lite/schema/schema_utils.cc, which TFLM
 * uses): the builtin code is the larger of `builtin_code` and `deprecated_builtin_code`. A
 * schema-3 model written before `builtin_code` existed has only the byte field (the int field
 * reads as its default 0); codes above 127 fit only in `builtin_code` (the byte field then holds
 * 127, PLACEHOLDER_FOR_GREATER_OP_CODES).
 */
import { FlatBuffer, type Table } from './flatbuffer.js';
import { ModelFormatError } from './errors.js';
import { BUILTIN_CUSTOM, F, TFLITE_FILE_IDENTIFIER, TENSOR_TYPE_BYTES, builtinName, tensorTypeName } from './schema.js';

export interface TfliteQuantization {
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TfliteTensor {
  name: string;
  /** TensorType name (FLOAT32, INT8, ...; UNKNOWN(n) for a code the schema lacks). */
  dtype: string;
  dtypeCode: number;
  shape: number[];
  /** Index into Model.buffers (0: no data). */
  buffer: number;
  /** Bytes of constant data the tensor's buffer holds (0 for activations). */
  constBytes: number;
  isVariable: boolean;
  /** Bytes of one instance (product of the shape times the element size); undefined when a dimension is unknown or the size is not fixed. */
  bytes?: number;
  quantization?: TfliteQuantization;
}

export interface TfliteOperator {
  opcodeIndex: number;
  inputs: number[];
  outputs: number[];
}

export interface TfliteSubgraph {
  name: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
}

export interface TfliteOperatorCode {
  /** The builtin code TFLite uses: max(builtin_code, deprecated_builtin_code). */
  builtinCode: number;
  /** Its name in BuiltinOperator (undefined for a code the schema lacks). */
  builtin?: string;
  deprecatedBuiltinCode: number;
  /** The int32 field as stored (0 when absent). */
  extendedBuiltinCode: number;
  /** For CUSTOM (32): the op's name. */
  custom?: string;
  version: number;
}

export interface TfliteModel {
  format: 'tflite';
  schemaVersion: number;
  description?: string;
  operatorCodes: TfliteOperatorCode[];
  subgraphs: TfliteSubgraph[];
  /** Bytes of each buffer's data (index 0 is the empty sentinel). */
  bufferBytes: number[];
}

const id = (fb: FlatBuffer) => (fb.length >= 8 ? String.fromCharCode(...fb.bytes.subarray(4, 8)) : '');

/** Is this a TFLite flatbuffer (file identifier TFL3 at byte 4)? */
export function isTflite(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && id(new FlatBuffer(bytes.subarray(0, 8))) === TFLITE_FILE_IDENTIFIER;
}

export function parseTflite(bytes: Uint8Array): TfliteModel {
  const fb = new FlatBuffer(bytes);
  if (bytes.length < 8) throw new ModelFormatError(`a TFLite model needs at least 8 bytes (root offset and file identifier); got ${bytes.length}`, 0);
  if (id(fb) !== TFLITE_FILE_IDENTIFIER) throw new ModelFormatError(`no TFLite file identifier: bytes 4..7 are not "${TFLITE_FILE_IDENTIFIER}"`, 4);
  const model = fb.root('Model');
  const M = F.model;
  const schemaVersion = model.u32(M.version, 'version', 0);
  const description = model.string(M.description, 'description');
  const bufferBytes = model.tables(M.buffers, 'buffers').map((b) => bufferSize(b));
  const operatorCodes = model.tables(M.operatorCodes, 'operator_codes').map(readOpcode);
  const subgraphs = model.tables(M.subgraphs, 'subgraphs').map((sg, i) => readSubgraph(fb, sg, i, bufferBytes, operatorCodes.length));
  return { format: 'tflite', schemaVersion, ...(description !== undefined ? { description } : {}), operatorCodes, subgraphs, bufferBytes };
}

function bufferSize(b: Table): number {
  const data = b.bytesOf(F.buffer.data, 'data');
  if (data) return data.count;
  // Models over 2 GB keep data outside the flatbuffer (offset/size, valid when offset > 1).
  const offset = b.u64(F.buffer.offset, 'offset', 0);
  return offset > 1 ? b.u64(F.buffer.size, 'size', 0) : 0;
}

function readOpcode(t: Table): TfliteOperatorCode {
  const O = F.opcode;
  const deprecatedBuiltinCode = t.i8(O.deprecatedBuiltinCode, 'deprecated_builtin_code', 0);
  const extendedBuiltinCode = t.i32(O.builtinCode, 'builtin_code', 0);
  const builtinCode = Math.max(extendedBuiltinCode, deprecatedBuiltinCode);
  const custom = builtinCode === BUILTIN_CUSTOM ? t.string(O.customCode, 'custom_code') : undefined;
  const name = builtinName(builtinCode);
  return {
    builtinCode,
    ...(name ? { builtin: name } : {}),
    deprecatedBuiltinCode,
    extendedBuiltinCode,
    ...(custom !== undefined ? { custom } : {}),
    version: t.i32(O.version, 'version', 1),
  };
}

function readSubgraph(fb: FlatBuffer, sg: Table, index: number, bufferBytes: number[], opcodes: number): TfliteSubgraph {
  const S = F.subgraph;
  const tensors = sg.tables(S.tensors, 'tensors').map((t) => readTensor(fb, t, bufferBytes));
  const inRange = (list: number[], what: string, allowOptional: boolean) => {
    for (const [k, v] of list.entries()) {
      if ((allowOptional && v === -1) || (v >= 0 && v < tensors.length)) continue;
      throw new ModelFormatError(`subgraphs[${index}].${what}[${k}] = ${v} names no tensor (the subgraph has ${tensors.length})`, sg.pos);
    }
    return list;
  };
  const inputs = inRange(sg.scalars(S.inputs, 'inputs', 'i32'), 'inputs', false);
  const outputs = inRange(sg.scalars(S.outputs, 'outputs', 'i32'), 'outputs', false);
  const operators = sg.tables(S.operators, 'operators').map((op, k) => {
    const P = F.operator;
    const opcodeIndex = op.u32(P.opcodeIndex, 'opcode_index', 0);
    if (opcodeIndex >= opcodes) throw new ModelFormatError(`subgraphs[${index}].operators[${k}].opcode_index ${opcodeIndex} names no operator code (the model has ${opcodes})`, op.pos);
    return {
      opcodeIndex,
      // Optional inputs are -1 (schema.fbs, Operator.inputs).
      inputs: inRange(op.scalars(P.inputs, 'inputs', 'i32'), `operators[${k}].inputs`, true),
      outputs: inRange(op.scalars(P.outputs, 'outputs', 'i32'), `operators[${k}].outputs`, true),
    };
  });
  return { name: sg.string(S.name, 'name') ?? '', tensors, inputs, outputs, operators };
}

function readTensor(fb: FlatBuffer, t: Table, bufferBytes: number[]): TfliteTensor {
  const T = F.tensor;
  const shape = t.scalars(T.shape, 'shape', 'i32');
  const dtypeCode = t.i8(T.type, 'type', 0);
  const buffer = t.u32(T.buffer, 'buffer', 0);
  if (buffer !== 0 && buffer >= bufferBytes.length) throw new ModelFormatError(`${t.what}.buffer ${buffer} names no buffer (the model has ${bufferBytes.length})`, t.pos);
  const elem = TENSOR_TYPE_BYTES[dtypeCode];
  let bytes: number | undefined;
  if (elem && shape.every((d) => d >= 0)) bytes = shape.reduce((a, d) => a * d, elem);
  const q = t.sub(T.quantization, 'quantization');
  let quantization: TfliteQuantization | undefined;
  if (q) {
    const Q = F.quant;
    const scale = q.scalars(Q.scale, 'scale', 'f32');
    const zeroPoint = q.scalars(Q.zeroPoint, 'zero_point', 'i64');
    if (scale.length || zeroPoint.length) quantization = { scale, zeroPoint, quantizedDimension: q.i32(Q.quantizedDimension, 'quantized_dimension', 0) };
  }
  return {
    name: t.string(T.name, 'name') ?? '',
    dtype: tensorTypeName(dtypeCode),
    dtypeCode,
    shape,
    buffer,
    constBytes: bufferBytes[buffer] ?? 0,
    isVariable: t.bool(T.isVariable, 'is_variable'),
    ...(bytes !== undefined ? { bytes } : {}),
    ...(quantization ? { quantization } : {}),
  };
}

/** The op's display name: the builtin's name, the custom op's name, or the raw code. */
export function opName(c: TfliteOperatorCode): string {
  if (c.builtinCode === BUILTIN_CUSTOM) return c.custom !== undefined ? `CUSTOM(${c.custom})` : 'CUSTOM(no custom_code)';
  return c.builtin ?? `BUILTIN(${c.builtinCode})`;
}
