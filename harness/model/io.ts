/**
 * What the simulated board's `ml` (harness/board/sim/ml.py, through harness/sim/boardProcess.ts)
 * needs from a TFLite model, read with this folder's parser (tflite.ts): the shapes and element
 * types of subgraph 0's input and output tensors, the schema version, and the facts the board's
 * outcome depends on: whether a convolution has per-channel quantized weights (its scale vector
 * is read as floats in place: a model that is not 4-byte aligned HardFaults on a Cortex-M inside
 * `ml.Model()`, issue 14), and whether the model was compiled for Ethos-U (custom op `ethos-u`).
 * Bad bytes throw ModelFormatError.
 */
import { parseTflite } from './tflite.js';
import { ModelFormatError } from './errors.js';
import { BUILTIN_CUSTOM, TENSOR_TYPES } from './schema.js';

export interface TensorInfo {
  shape: number[];
  /** MicroPython array typecode as OpenMV's ml reports it: 'b', 'B', 'f', 'h', 'i', ... */
  dtype: string;
  /** Bytes one tensor of this shape and type takes (a dimension below 1 counted as 1). */
  bytes: number;
}

export interface ModelIo {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** Model.version (TFLM accepts 3 only: "Unsupported model schema"). */
  version: number;
  /** A CONV_2D or DEPTHWISE_CONV_2D whose filter (input 1) has more than one quantization scale. */
  perChannelConv: boolean;
  /** A custom operator `ethos-u` (compiled by Vela for the Ethos-U NPU). */
  ethosU: boolean;
}

/** BuiltinOperator codes of the convolutions (schema.fbs). */
const CONV_2D = 3;
const DEPTHWISE_CONV_2D = 4;

/** TensorType name -> [MicroPython typecode, element size]; any other type reads as bytes. */
const TYPECODES: Record<string, [string, number]> = {
  FLOAT32: ['f', 4], FLOAT16: ['e', 2], INT32: ['i', 4], UINT8: ['B', 1], INT64: ['q', 8], BOOL: ['?', 1],
  INT16: ['h', 2], INT8: ['b', 1], FLOAT64: ['d', 8], UINT32: ['I', 4], UINT16: ['H', 2],
};

export function readModelIo(buf: Uint8Array): ModelIo {
  const m = parseTflite(buf);
  const sg = m.subgraphs[0];
  if (!sg) throw new ModelFormatError('model has no subgraphs', 0);
  const info = (idx: number): TensorInfo => {
    const t = sg.tensors[idx]!;
    const [dtype, size] = TYPECODES[TENSOR_TYPES[t.dtypeCode] ?? ''] ?? ['B', 1];
    return { shape: t.shape, dtype, bytes: t.shape.reduce((a, n) => a * Math.max(n, 1), 1) * size };
  };
  const perChannelConv = sg.operators.some((op) => {
    const code = m.operatorCodes[op.opcodeIndex]!.builtinCode;
    if (code !== CONV_2D && code !== DEPTHWISE_CONV_2D) return false;
    const filter = op.inputs[1];
    return filter !== undefined && (sg.tensors[filter]?.quantization?.scale.length ?? 0) > 1;
  });
  const ethosU = m.operatorCodes.some((c) => c.builtinCode === BUILTIN_CUSTOM && c.custom === 'ethos-u');
  return { inputs: sg.inputs.map(info), outputs: sg.outputs.map(info), version: m.schemaVersion, perChannelConv, ethosU };
}
