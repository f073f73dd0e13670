/**
 * The model checks per profile and firmware version: operators (a fixture model whose operator
 * code is changed, in the bytes, to one the table lacks), dtypes, schema version, the arena
 * estimate against mlRam, the Ethos-U warning, NBIN headers, and the op tables themselves.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { describeModel, checkModel, type ModelFacts } from './check.js';
import { loadOpTable, listOpTables, parseOpTable } from './opTable.js';
import { opcodeFieldPositions, tensorTypePosition, versionPosition } from './edit.js';
import { parseTflite } from './tflite.js';
import { estimateArena, ARENA_ALIGN } from './arena.js';
import { OpTableError } from './errors.js';
import { loadProfile } from '../profile/profile.js';
import { NBIN_MAGIC } from './nbin.js';

const M = fileURLToPath(new URL('../../test/fixtures/models/', import.meta.url));
const load = (n: string) => new Uint8Array(readFileSync(`${M}${n}.tflite`));
const h7 = loadProfile('openmv-h7');
const ae3 = loadProfile('openmv-ae3');
const n6 = loadProfile('openmv-n6');
const newest = loadOpTable();
const codes = (f: ReturnType<typeof checkModel>) => f.findings.map((x) => `${x.severity}:${x.code}`);

describe('op tables (devices/ops)', () => {
  it('one table per firmware version, the newest by default, an unknown version refused', () => {
    const versions = listOpTables().map((t) => t.version);
    expect(versions).toEqual(['v4.7.0', 'v4.8.0', 'v4.8.1', 'v5.0.0']);
    expect(newest.version).toBe('v5.0.0');
    expect(loadOpTable('4.8.1').version).toBe('v4.8.1');
    expect(() => loadOpTable('v9.9.9')).toThrow(/--firmware v9.9.9: no op table for that version \(known: v4.7.0, v4.8.0, v4.8.1, v5.0.0\)/);
  });

  it('each table names real builtins, cites its source, and says which boards have Ethos-U', () => {
    for (const { version } of listOpTables()) {
      const t = loadOpTable(version);
      expect(t.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(t.builtinNames.length).toBe(t.builtins.size);
      expect(t.builtinNames).toEqual(expect.arrayContaining(['CONV_2D', 'DEPTHWISE_CONV_2D', 'FULLY_CONNECTED', 'SOFTMAX']));
      // Commented out in tflm_backend.cc: not registered.
      expect(t.custom.has('TFLite_Detection_PostProcess')).toBe(false);
      expect(t.ethosU.profiles).toContain('openmv-ae3');
      expect(t.profiles).not.toContain('openmv-n6');
    }
    expect(loadOpTable('v5.0.0').ethosU.profiles).toEqual(['openmv-ae3', 'qemu-mps3-an547']);
    expect(loadOpTable('v4.8.1').ethosU.profiles).toEqual(['openmv-ae3']);
    expect(loadOpTable('v4.7.0').nbin).toBeUndefined();
  });

  it('a table naming an op the schema lacks is refused, naming the file and field', () => {
    expect(() => parseOpTable({ firmware: 'x', version: 'v1', commit: 'c', source: 's', schemaVersion: 3, dtypes: ['INT8'], arenaExtra: 0, profiles: [], builtins: ['CONV_2D', 'NO_SUCH_OP'], custom: [], ethosU: { op: 'ethos-u', profiles: [] } }, 'f.yaml')).toThrow(OpTableError);
    expect(() => parseOpTable({ firmware: 'x', version: 'v1', commit: 'c', source: 's', schemaVersion: 3, dtypes: ['INT9'], arenaExtra: 0, profiles: [], builtins: [], custom: [], ethosU: { op: 'ethos-u', profiles: [] } }, 'f.yaml')).toThrow(/f\.yaml: field 'dtypes' names 'INT9'/);
  });
});

describe('operators the firmware does not register', () => {
  it('every fixture model passes the op and dtype checks on the H7 (v5.0.0)', () => {
    for (const n of ['person_detect', 'micro_speech', 'force_int_quant', 'fomo_face_detection']) {
      expect(codes(checkModel(describeModel(load(n)), h7, newest))).toEqual([]);
    }
  });

  it('person_detect with its SOFTMAX code edited to RELU_N1_TO_1 (byte field only): an error naming the op', () => {
    const b = load('person_detect').slice();
    const m = parseTflite(b);
    const i = m.operatorCodes.findIndex((c) => c.builtin === 'SOFTMAX');
    const at = opcodeFieldPositions(b, i);
    expect(at.builtin).toBeUndefined();
    b[at.deprecated!] = 20; // RELU_N1_TO_1: not in tflm_backend.cc's list
    const c = checkModel(describeModel(b), h7, newest);
    expect(codes(c)).toEqual(['error:op']);
    expect(c.findings[0]!.message).toBe('operator RELU_N1_TO_1 (builtin code 20) (1 operator) is not registered by openmv v5.0.0: ml.Model() raises ValueError "Failed to allocate tensors"');
  });

  it('fomo with both code fields edited to TOPK_V2: an error; only one field edited: the other still wins where larger', () => {
    const b = load('fomo_face_detection').slice();
    const at = opcodeFieldPositions(b, 4); // SOFTMAX (25)
    b[at.deprecated!] = 48; // TOPK_V2
    new DataView(b.buffer).setInt32(at.builtin!, 48, true);
    expect(checkModel(describeModel(b), h7, newest).findings.map((f) => f.message)).toEqual([expect.stringMatching(/^operator TOPK_V2 \(builtin code 48\)/)]);
    // builtin_code back to 25: max(25, 48) is still 48.
    new DataView(b.buffer).setInt32(at.builtin!, 25, true);
    expect(codes(checkModel(describeModel(b), h7, newest))).toEqual(['error:op']);
    // The byte back to 25 too: clean again.
    b[at.deprecated!] = 25;
    expect(codes(checkModel(describeModel(b), h7, newest))).toEqual([]);
  });

  it('a code beyond the schema (in builtin_code) is named by its number', () => {
    const b = load('fomo_face_detection').slice();
    const at = opcodeFieldPositions(b, 2); // PAD (34); ADD (0) stores no builtin_code: the default
    expect(at.builtin).toBeDefined();
    new DataView(b.buffer).setInt32(at.builtin!, 300, true);
    expect(checkModel(describeModel(b), h7, newest).findings[0]!.message).toMatch(/^operator BUILTIN\(300\) \(\d+ operators?\) is not registered/);
  });
});

describe('dtypes, schema version', () => {
  it('an input edited to INT32 and an output to FLOAT16: errors naming tensor and type', () => {
    const b = load('micro_speech').slice();
    const m = parseTflite(b);
    const sg = m.subgraphs[0]!;
    b[tensorTypePosition(b, 0, sg.inputs[0]!)!] = 2; // INT32
    b[tensorTypePosition(b, 0, sg.outputs[0]!)!] = 1; // FLOAT16
    const c = checkModel(describeModel(b), h7, newest);
    expect(codes(c)).toEqual(['error:dtype', 'error:dtype']);
    expect(c.findings[0]!.message).toBe(`input tensor ${sg.inputs[0]} 'Reshape_1' is INT32; openmv v5.0.0's ml accepts UINT8, INT8, UINT16, INT16, FLOAT32: ml.Model() raises ValueError "Unsupported input data type"`);
    expect(c.findings[1]!.message).toMatch(/^output tensor \d+ 'labels_softmax' is FLOAT16/);
  });

  it('float32 in and out (force_int_quant) is accepted', () => {
    expect(codes(checkModel(describeModel(load('force_int_quant')), h7, newest))).toEqual([]);
  });

  it('schema version 4: an error', () => {
    const b = load('micro_speech').slice();
    new DataView(b.buffer).setUint32(versionPosition(b)!, 4, true);
    expect(checkModel(describeModel(b), h7, newest).findings.map((f) => f.message)).toEqual(['schema version 4, openmv v5.0.0 accepts 3 only: ml.Model() raises ValueError "Unsupported model schema"']);
  });
});

describe('tensor arena against the RAM the board gives ml', () => {
  it('the estimate covers at least the largest single operator\'s activations, plus the 512 bytes the backend adds', () => {
    for (const n of ['person_detect', 'micro_speech', 'force_int_quant', 'fomo_face_detection']) {
      const m = parseTflite(load(n));
      const sg = m.subgraphs[0]!;
      let op = 0;
      for (const o of sg.operators) {
        const ts = new Set([...o.inputs, ...o.outputs].filter((t) => t >= 0 && sg.tensors[t]!.constBytes === 0));
        op = Math.max(op, [...ts].reduce((a, t) => a + Math.ceil(sg.tensors[t]!.bytes! / ARENA_ALIGN) * ARENA_ALIGN, 0));
      }
      const e = estimateArena(m, 512);
      expect(e.activations).toBeGreaterThanOrEqual(op);
      expect(e.total).toBe(e.activations + e.variables + e.persistent + 512);
      expect(e.unsized).toBe(0);
    }
    // person_detect's first op reads the 96x96x1 input and writes 48x48x8 (MobileNet v1 0.25, stride 2).
    const pd = estimateArena(parseTflite(load('person_detect')), 0);
    expect(pd.activations).toBeGreaterThanOrEqual(96 * 96 + 48 * 48 * 8);
  });

  it('fomo needs more than a board with 128 KiB gives: a warning; the H7\'s 264 KiB fits', () => {
    const facts = describeModel(load('fomo_face_detection'));
    const small = { ...h7, name: 'small-board', mlRam: 128 * 1024 };
    const t = { ...newest, profiles: [...newest.profiles, 'small-board'] };
    const c = checkModel(facts, small, t);
    expect(codes(c)).toEqual(['warning:arena']);
    expect(c.findings[0]!.message).toMatch(/^needs at least [\d.]+ KiB of tensor arena \(activation peak [\d.]+ KiB\), more than the 128\.0 KiB small-board can give ml \(largest GC block\): ml\.Model\(\) will fail with "Failed to allocate tensors"$/);
    expect(codes(checkModel(facts, h7, newest))).toEqual([]);
    const unknown = checkModel(facts, { ...small, mlRam: undefined }, t);
    expect(codes(unknown)).toEqual([]);
    expect(unknown.skipped).toEqual(['arena: profile small-board gives no mlRam']);
  });
});

describe('Ethos-U', () => {
  it('on the AE3 a model without the ethos-u op warns that it runs on the CPU; on the H7 it does not', () => {
    const facts = describeModel(load('person_detect'));
    const c = checkModel(facts, ae3, newest);
    expect(codes(c)).toEqual(['warning:npu']);
    expect(c.findings[0]!.message).toBe("not compiled for Ethos-U (no 'ethos-u' operator: not run through Vela): on openmv-ae3 it runs on the CPU, not the NPU");
    expect(codes(checkModel(facts, h7, newest))).toEqual([]);
    // v4.8.1 had no ETHOS_U on MPS3_AN547; v5.0.0 does.
    const an547 = loadProfile('qemu-mps3-an547');
    expect(codes(checkModel(facts, an547, loadOpTable('v4.8.1')))).toEqual([]);
    expect(codes(checkModel(facts, an547, newest))).toEqual(['warning:npu']);
  });

  it('a Vela-compiled model (an ethos-u custom op) is fine on the AE3 and an unregistered op on the H7', () => {
    const base = describeModel(load('person_detect'));
    if (base.format !== 'tflite' || 'error' in base) throw new Error('fixture');
    const vela: ModelFacts = { ...base, operators: [{ op: 'CUSTOM(ethos-u)', builtinCode: 32, custom: 'ethos-u', version: 1, count: 1 }], ethosU: true };
    expect(codes(checkModel(vela, ae3, newest))).toEqual([]);
    const onH7 = checkModel(vela, h7, newest);
    expect(onH7.findings.map((f) => f.message)).toEqual(["custom operator 'ethos-u' (1 operator) is not registered by openmv v5.0.0 on openmv-h7 (openmv-h7 has no Ethos-U NPU: the firmware registers it only with ETHOS_U): ml.Model() raises ValueError \"Failed to allocate tensors\""]);
  });
});

describe('format and boards without a table', () => {
  it('TFLite on the N6 and NBIN on the H7: format errors; a profile no table lists: skipped, said so', () => {
    expect(codes(checkModel(describeModel(load('micro_speech')), n6, newest))).toEqual(['error:format']);
    expect(codes(checkModel(describeModel(nbin()), h7, newest))).toEqual(['error:format']);
    const an385 = checkModel(describeModel(load('micro_speech')), loadProfile('qemu-mps2-an385'), newest);
    expect(an385.findings).toEqual([]);
    expect(an385.skipped[0]).toMatch(/does not list qemu-mps2-an385 among the boards built with TFLM/);
  });

  it('a damaged flatbuffer is a parse error, not an exception', () => {
    const b = load('micro_speech').slice();
    new DataView(b.buffer).setUint32(0, 0x7fffffff, true);
    const c = checkModel(describeModel(b), h7, newest);
    expect(codes(c)).toEqual(['error:parse']);
    expect(c.findings[0]!.message).toMatch(/^the TFLite flatbuffer does not parse: Model: root offset/);
  });
});

/** An NBIN header as ST's runtime lays it out (ll_aton_reloc_network.c), with a small body. */
function nbin(o: { cpu?: number; major?: number; minor?: number; secure?: boolean; dbg?: boolean; async?: boolean; length?: number } = {}): Uint8Array {
  const b = new Uint8Array(o.length ?? 4096);
  const v = new DataView(b.buffer);
  const flags = (((o.major ?? 8) << 28) | ((o.minor ?? 0) << 24) | ((o.async ?? true) ? 1 << 22 : 0) | ((o.dbg ?? true) ? 1 << 21 : 0) | ((o.secure ?? true) ? 1 << 20 : 0) | (1 << 12) | (o.cpu ?? 0xd22)) >>> 0;
  v.setUint32(0, NBIN_MAGIC, true);
  v.setUint32(4, flags, true);
  // data_start, data_end (RAM 0x4...), data_data (flash 0x2... offset 1024), bss_start, bss_end, got, rel, params_start, params_offset.
  const words = [0x40000000, 0x40000100, 0x20000400, 0x40000100, 0x40000300, 0x40000000, 0x40000040, 0x20000500, 0x20000540, 0x40000000, 0x80000800];
  words.forEach((w, i) => v.setUint32(8 + i * 4, w, true));
  return b;
}

describe('NBIN on the N6', () => {
  it('a header the N6 runtime accepts: no findings; the declared sizes as the runtime derives them', () => {
    const f = describeModel(nbin());
    expect(f.format).toBe('nbin');
    if (f.format !== 'nbin' || 'error' in f) throw new Error('parse');
    expect(f.header.sizes).toEqual({ code: 0x400, execRamXip: 0x300, execRamCopy: 0x700, data: 0x100, paramsOffset: 0x800 });
    expect(f.header.runtime).toEqual({ major: 8, minor: 0 });
    const c = checkModel(f, n6, newest);
    expect(c.findings).toEqual([]);
  });

  it('wrong core, debug-info or async flag: errors quoting "Failed to load network"; the secure flag matters in v4.8.1 only', () => {
    const msg = (b: Uint8Array, t = newest) => checkModel(describeModel(b), n6, t).findings.map((x) => x.message);
    expect(msg(nbin({ cpu: 0xc27 }))).toEqual([expect.stringMatching(/^built for CPU part 0xC27 \(Cortex-M7\), the board's core is 0xD22 \(Cortex-M55\): openmv v5.0.0's ST runtime \(atonn-v1.1.3-262-g7cc65410\) refuses it, ml.Model\(\) raises RuntimeError "Failed to load network"$/)]);
    expect(msg(nbin({ dbg: false }))).toHaveLength(1);
    expect(msg(nbin({ async: false }))).toHaveLength(1);
    // Upstream refuses a version only when both major and minor differ (&&).
    expect(msg(nbin({ major: 7 }))).toEqual([]);
    expect(msg(nbin({ major: 7, minor: 1 }))).toEqual([expect.stringMatching(/^built for relocatable runtime 7\.1, not 8\.0/)]);
    expect(msg(nbin({ secure: false }))).toEqual([]);
    expect(msg(nbin({ secure: false }), loadOpTable('v4.8.1'))).toEqual([expect.stringMatching(/^not compiled with the secure option/)]);
  });

  it('a header shorter than the sections, or sections past the file: parse errors', () => {
    expect(codes(checkModel(describeModel(nbin().subarray(0, 40)), n6, newest))).toEqual(['error:parse']);
    expect(codes(checkModel(describeModel(nbin({ length: 1000 })), n6, newest))).toEqual(['error:parse']);
  });
});
