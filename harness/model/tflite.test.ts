/**
 * The TFLite parser on every fixture model, against facts known without it: the models' published
 * shapes (person_detect 96x96x1 int8 -> 2 classes, micro_speech 1960 features -> 4 labels, the
 * labels files beside them), the op lists TFLM's own examples register for them
 * (person_detection: AveragePool2D, Conv2D, DepthwiseConv2D, Reshape, Softmax; micro_speech:
 * DepthwiseConv2D, FullyConnected, Reshape, Softmax), and words read by hand from the bytes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { parseTflite, isTflite, opName } from './tflite.js';
import { builtinName, builtinCode, TENSOR_TYPES } from './schema.js';
import { opcodeFieldPositions } from './edit.js';
import { ModelFormatError } from './errors.js';

const M = fileURLToPath(new URL('../../test/fixtures/models/', import.meta.url));
const load = (n: string) => new Uint8Array(readFileSync(`${M}${n}.tflite`));
const labels = (n: string) => readFileSync(`${M}${n}.txt`, 'utf8').trim().split('\n');
const io = (n: string) => {
  const m = parseTflite(load(n));
  const sg = m.subgraphs[0]!;
  return { m, sg, ins: sg.inputs.map((i) => sg.tensors[i]!), outs: sg.outputs.map((i) => sg.tensors[i]!) };
};

describe('schema facts', () => {
  it('BuiltinOperator and TensorType numbering as in schema.fbs', () => {
    expect([0, 3, 4, 9, 22, 25, 32, 114, 126, 127, 161, 205, 225].map(builtinName)).toEqual([
      'ADD', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'RESHAPE', 'SOFTMAX', 'CUSTOM', 'QUANTIZE', 'BATCH_MATMUL', 'PLACEHOLDER_FOR_GREATER_OP_CODES', 'RIGHT_SHIFT', 'REDUCE_WINDOW', 'TEMP_STREAMING_CONV_2D',
    ]);
    expect(builtinName(206)).toBeUndefined();
    expect(builtinCode('STABLEHLO_PAD')).toBe(195);
    expect(TENSOR_TYPES[9]).toBe('INT8');
    expect(TENSOR_TYPES[17]).toBe('INT4');
  });
});

describe('the fixture models', () => {
  it('every fixture is TFL3 with schema version 3, read the same by hand', () => {
    for (const n of ['person_detect', 'micro_speech', 'force_int_quant', 'fomo_face_detection']) {
      const b = load(n);
      expect(isTflite(b)).toBe(true);
      // By hand: root offset, the Model table's vtable, field 0 (version) as a u32.
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const rootAt = dv.getUint32(0, true);
      const vt = rootAt - dv.getInt32(rootAt, true);
      const versionOff = dv.getUint16(vt + 4, true);
      expect(versionOff === 0 ? 0 : dv.getUint32(rootAt + versionOff, true)).toBe(3);
      expect(parseTflite(b).schemaVersion).toBe(3);
    }
  });

  it('person_detect: input 1x96x96x1 int8, output 1x2 int8 (one per label), the ops of TFLM\'s person_detection example', () => {
    const { m, ins, outs } = io('person_detect');
    expect(m.subgraphs).toHaveLength(1);
    expect(ins.map((t) => [t.dtype, t.shape])).toEqual([['INT8', [1, 96, 96, 1]]]);
    expect(outs.map((t) => [t.dtype, t.shape])).toEqual([['INT8', [1, 2]]]);
    expect(outs[0]!.shape[1]).toBe(labels('person_detect').length);
    expect(m.operatorCodes.map(opName).sort()).toEqual(['AVERAGE_POOL_2D', 'CONV_2D', 'DEPTHWISE_CONV_2D', 'RESHAPE', 'SOFTMAX']);
    // An int8 input quantised to [-1, 1]: scale 2/255, zero point -1 (uint8 127.5 shifted by 128, rounded).
    expect(ins[0]!.quantization!.scale[0]).toBeCloseTo(2 / 255, 7);
    expect(ins[0]!.quantization!.zeroPoint).toEqual([-1]);
    // Softmax int8 output: scale 1/256, zero point -128 (TFLite's fixed output quantisation for softmax).
    expect(outs[0]!.quantization).toEqual({ scale: [1 / 256], zeroPoint: [-128], quantizedDimension: 0 });
    expect(ins[0]!.bytes).toBe(96 * 96);
  });

  it('micro_speech: 1960 int8 features (49 frames x 40 channels) -> 4 labels, the ops of TFLM\'s micro_speech example', () => {
    const { m, ins, outs } = io('micro_speech');
    expect(ins.map((t) => [t.dtype, t.shape])).toEqual([['INT8', [1, 49 * 40]]]);
    expect(outs.map((t) => [t.dtype, t.shape])).toEqual([['INT8', [1, labels('micro_speech').length]]]);
    expect(m.operatorCodes.map(opName).sort()).toEqual(['DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'RESHAPE', 'SOFTMAX']);
  });

  it('fomo_face_detection: 96x96 RGB int8 in, a 12x12 grid of 2 classes out (FOMO divides by 8)', () => {
    const { ins, outs } = io('fomo_face_detection');
    expect(ins.map((t) => [t.dtype, t.shape])).toEqual([['INT8', [1, 96, 96, 3]]]);
    expect(outs.map((t) => [t.dtype, t.shape])).toEqual([['INT8', [1, 96 / 8, 96 / 8, labels('fomo_face_detection').length]]]);
  });

  it('force_int_quant: float32 in and out (QUANTIZE ... DEQUANTIZE around int8 layers), one output value', () => {
    const { m, ins, outs } = io('force_int_quant');
    expect(ins.map((t) => t.dtype)).toEqual(['FLOAT32']);
    expect(outs.map((t) => [t.dtype, t.shape])).toEqual([['FLOAT32', [1, 1]]]);
    const used = new Set(m.subgraphs[0]!.operators.map((o) => opName(m.operatorCodes[o.opcodeIndex]!)));
    expect(used).toEqual(new Set(['QUANTIZE', 'FULLY_CONNECTED', 'DEQUANTIZE']));
    expect(opName(m.operatorCodes[m.subgraphs[0]!.operators[0]!.opcodeIndex]!)).toBe('QUANTIZE');
  });

  it('every operator and tensor index stays inside the model; each constant buffer holds exactly its tensor (shape x element size)', () => {
    for (const n of ['person_detect', 'micro_speech', 'force_int_quant', 'fomo_face_detection']) {
      const b = load(n);
      const m = parseTflite(b);
      const constBytes = m.bufferBytes.reduce((a, x) => a + x, 0);
      expect(constBytes).toBeLessThan(b.length);
      let constTensors = 0;
      for (const sg of m.subgraphs) for (const t of sg.tensors) {
        if (t.constBytes === 0) continue;
        constTensors++;
        expect([t.name, t.constBytes]).toEqual([t.name, t.bytes]);
      }
      expect(constTensors).toBeGreaterThan(0);
      for (const sg of m.subgraphs) for (const op of sg.operators) {
        expect(op.opcodeIndex).toBeLessThan(m.operatorCodes.length);
        for (const t of [...op.inputs, ...op.outputs]) expect(t === -1 || (t >= 0 && t < sg.tensors.length)).toBe(true);
      }
    }
  });
});

describe('builtin code: the larger of builtin_code and deprecated_builtin_code (schema.fbs, GetBuiltinCode)', () => {
  it('person_detect stores only the byte field (builtin_code absent, read as 0)', () => {
    const b = load('person_detect');
    const m = parseTflite(b);
    for (const c of m.operatorCodes) {
      expect(c.extendedBuiltinCode).toBe(0);
      expect(c.builtinCode).toBe(c.deprecatedBuiltinCode);
    }
  });

  it('fomo stores both; a code above 127 lives in builtin_code with the byte at 127', () => {
    const b = load('fomo_face_detection').slice();
    const m = parseTflite(b);
    expect(m.operatorCodes.every((c) => c.extendedBuiltinCode === c.deprecatedBuiltinCode)).toBe(true);
    const at = opcodeFieldPositions(b, 4);
    new DataView(b.buffer).setInt32(at.builtin!, 145, true); // BROADCAST_ARGS
    b[at.deprecated!] = 127;
    const c = parseTflite(b).operatorCodes[4]!;
    expect([c.builtinCode, c.builtin, c.deprecatedBuiltinCode]).toEqual([145, 'BROADCAST_ARGS', 127]);
    // A stale byte with a larger extended code: the extended one wins; a larger byte: the byte wins.
    b[at.deprecated!] = 3;
    expect(parseTflite(b).operatorCodes[4]!.builtin).toBe('BROADCAST_ARGS');
    new DataView(b.buffer).setInt32(at.builtin!, 0, true);
    expect(parseTflite(b).operatorCodes[4]!.builtin).toBe('CONV_2D');
  });
});

describe('bad bytes', () => {
  it('truncated, wrong identifier, offsets out of range: ModelFormatError naming the place', () => {
    const b = load('micro_speech');
    expect(() => parseTflite(b.subarray(0, 6))).toThrow(ModelFormatError);
    const wrong = b.slice();
    wrong[4] = 0x58;
    expect(() => parseTflite(wrong)).toThrow(/file identifier/);
    const far = b.slice();
    new DataView(far.buffer).setUint32(0, 0xfffffff0, true);
    expect(() => parseTflite(far)).toThrow(/Model: root offset \(target\).*outside/);
    expect(() => parseTflite(b.subarray(0, 4000))).toThrow(ModelFormatError);
  });
});
