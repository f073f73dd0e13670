/**
 * What the simulated board's ml reads from a model (io.ts, on this folder's parser): the fixture
 * models' tensors as OpenMV's ml reports them, the per-channel convolution fact the sim's crash
 * depends on, the Ethos-U custom op, and the typecodes of TensorType (UINT32 is 15, UINT16 16).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readModelIo } from './io.js';
import { tensorTypePosition } from './edit.js';
import { ModelFormatError } from './errors.js';
import { parseTflite } from './tflite.js';
import { oneOpModel } from '../../test/scenario/tinyTflite.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const model = (n: string) => new Uint8Array(readFileSync(join(root, 'test/fixtures/models', `${n}.tflite`)));

describe('readModelIo', () => {
  it("reads the fixture models' inputs and outputs, version and per-channel convolutions", () => {
    expect(readModelIo(model('person_detect'))).toEqual({
      inputs: [{ shape: [1, 96, 96, 1], dtype: 'b', bytes: 9216 }], outputs: [{ shape: [1, 2], dtype: 'b', bytes: 2 }], version: 3, perChannelConv: true, ethosU: false,
    });
    expect(readModelIo(model('force_int_quant'))).toMatchObject({ perChannelConv: false, ethosU: false, version: 3 });
    expect(readModelIo(model('fomo_face_detection')).perChannelConv).toBe(true);
  });

  it('sees a model compiled for Ethos-U by its custom op', () => {
    expect(readModelIo(oneOpModel({ custom: 'ethos-u' }, [1, 4], [1, 2]))).toEqual({
      inputs: [{ shape: [1, 4], dtype: 'b', bytes: 4 }], outputs: [{ shape: [1, 2], dtype: 'b', bytes: 2 }], version: 3, perChannelConv: false, ethosU: true,
    });
  });

  it("gives each TensorType its MicroPython typecode (UINT32 = 15 is 'I', UINT16 = 16 is 'H')", () => {
    const m = model('person_detect'); // its input's type byte is stored (INT8)
    const input = readModelIo(m).inputs[0]!;
    const b = new Uint8Array(m);
    const at = tensorTypePosition(b, 0, parseTflite(m).subgraphs[0]!.inputs[0]!);
    expect(at).toBeDefined();
    const elems = input.shape.reduce((a, n) => a * Math.max(n, 1), 1);
    for (const [code, dtype, size] of [[15, 'I', 4], [16, 'H', 2], [0, 'f', 4], [9, 'b', 1]] as const) {
      b[at!] = code;
      expect(readModelIo(b).inputs[0]).toEqual({ shape: input.shape, dtype, bytes: elems * size });
    }
  });

  it('bad bytes are a ModelFormatError', () => {
    expect(() => readModelIo(Uint8Array.from(Buffer.from('0000TFL3')))).toThrow(ModelFormatError);
    expect(() => readModelIo(new Uint8Array(16))).toThrow(ModelFormatError);
  });
});
