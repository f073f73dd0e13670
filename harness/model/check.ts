/**
 * Model checks against a board: what a model declares (describeModel) and what the board's
 * firmware will do with it (checkModel), from the op fact table of a firmware version
 * (devices/ops, opTable.ts) and the profile (model format, `mlRam`).
 *
 * Findings and their severity (the reason: what the cam does at ml.Model()):
 *   error   parse    the bytes are not a well-formed model (TFLM does not verify the flatbuffer:
 *                    the cam reads garbage or faults)
 *   error   format   TFLite on an NBIN board or NBIN on a TFLite board
 *   error   schema   Model.version is not 3: ValueError "Unsupported model schema"
 *   error   op       an operator the firmware does not register: "Failed to allocate tensors"
 *   error   dtype    an input/output type ml does not accept: "Unsupported input data type %d"
 *   error   nbin     an NBIN header ST's runtime refuses: RuntimeError "Failed to load network"
 *   warning arena    the arena estimate (a lower bound) exceeds the profile's mlRam: "Failed to
 *                    allocate tensors"
 *   warning npu      a board with Ethos-U and a model with no ethos-u op: it runs on the CPU
 * A check whose facts are missing (no table lists the profile, no mlRam) is not run, and
 * `skipped` says so.
 */
import type { BoardProfile } from '../profile/profile.js';
import { ModelFormatError } from './errors.js';
import { isTflite, parseTflite, opName, type TfliteTensor } from './tflite.js';
import { isNbin, parseNbin, NBIN_CPUS, type NbinHeader } from './nbin.js';
import { estimateArena, type ArenaEstimate } from './arena.js';
import { BUILTIN_CUSTOM } from './schema.js';
import type { OpTable } from './opTable.js';

export type FindingCode = 'parse' | 'format' | 'schema' | 'op' | 'dtype' | 'nbin' | 'arena' | 'npu';

export interface ModelFinding {
  severity: 'error' | 'warning';
  code: FindingCode;
  message: string;
}

export interface TensorSummary {
  index: number;
  name: string;
  dtype: string;
  shape: number[];
  scale?: number;
  zeroPoint?: number;
}

export interface OpUse {
  /** BuiltinOperator name, or CUSTOM(name). */
  op: string;
  builtinCode: number;
  custom?: string;
  version: number;
  /** Operators of the model using this code. */
  count: number;
}

/** What a model declares, for inspect and for the checks. */
export type ModelFacts =
  | {
      format: 'tflite';
      bytes: number;
      schemaVersion: number;
      description?: string;
      subgraphs: { name: string; tensors: number; operators: number; inputs: TensorSummary[]; outputs: TensorSummary[] }[];
      operators: OpUse[];
      ethosU: boolean;
      /** Arena lower bound without the backend's slack (extra 0); checkModel adds the table's. */
      arena: ArenaEstimate;
    }
  | { format: 'nbin'; bytes: number; header: NbinHeader }
  | { format: 'unknown'; bytes: number; error: string }
  | { format: 'tflite' | 'nbin'; bytes: number; error: string };

export interface ModelCheck {
  profile: string;
  firmware: string;
  findings: ModelFinding[];
  /** Checks not run, and why. */
  skipped: string[];
  /** The arena estimate with the table's slack, when the model is TFLite. */
  arena?: ArenaEstimate;
}

const summary = (t: TfliteTensor, index: number): TensorSummary => ({
  index,
  name: t.name,
  dtype: t.dtype,
  shape: t.shape,
  ...(t.quantization?.scale.length === 1 ? { scale: t.quantization.scale[0]! } : {}),
  ...(t.quantization?.zeroPoint.length === 1 ? { zeroPoint: t.quantization.zeroPoint[0]! } : {}),
});

/** Parse a model's bytes (TFLite by TFL3 at 4, NBIN by its magic). Never throws on bad bytes. */
export function describeModel(bytes: Uint8Array): ModelFacts {
  const format = isTflite(bytes) ? 'tflite' : isNbin(bytes) ? 'nbin' : undefined;
  if (!format) return { format: 'unknown', bytes: bytes.length, error: 'neither a TFLite model (TFL3 at byte 4) nor an ST network binary (NBIN at byte 0)' };
  try {
    if (format === 'nbin') return { format, bytes: bytes.length, header: parseNbin(bytes) };
    const model = parseTflite(bytes);
    const counts = new Map<number, number>();
    for (const sg of model.subgraphs) for (const op of sg.operators) counts.set(op.opcodeIndex, (counts.get(op.opcodeIndex) ?? 0) + 1);
    const operators: OpUse[] = model.operatorCodes.map((c, i) => ({
      op: opName(c),
      builtinCode: c.builtinCode,
      ...(c.custom !== undefined ? { custom: c.custom } : {}),
      version: c.version,
      count: counts.get(i) ?? 0,
    }));
    return {
      format,
      bytes: bytes.length,
      schemaVersion: model.schemaVersion,
      ...(model.description !== undefined ? { description: model.description } : {}),
      subgraphs: model.subgraphs.map((sg) => ({
        name: sg.name,
        tensors: sg.tensors.length,
        operators: sg.operators.length,
        inputs: sg.inputs.map((i) => summary(sg.tensors[i]!, i)),
        outputs: sg.outputs.map((i) => summary(sg.tensors[i]!, i)),
      })),
      operators,
      ethosU: operators.some((o) => o.count > 0 && o.custom === 'ethos-u'),
      arena: estimateArena(model, 0),
    };
  } catch (e) {
    if (!(e instanceof ModelFormatError)) throw e;
    return { format, bytes: bytes.length, error: e.message };
  }
}

const kib = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} bytes`);

/** What the profile's board (firmware `table.version`) does with the model. */
export function checkModel(facts: ModelFacts, profile: Pick<BoardProfile, 'name' | 'modelFormat' | 'mlRam'>, table: OpTable): ModelCheck {
  const out: ModelCheck = { profile: profile.name, firmware: `${table.firmware} ${table.version}`, findings: [], skipped: [] };
  const err = (code: FindingCode, message: string) => out.findings.push({ severity: 'error', code, message });
  const warn = (code: FindingCode, message: string) => out.findings.push({ severity: 'warning', code, message });
  if ('error' in facts) {
    if (facts.format === 'unknown') out.skipped.push(`not a model: ${facts.error}`);
    else err('parse', `the ${facts.format === 'tflite' ? 'TFLite flatbuffer' : 'NBIN header'} does not parse: ${facts.error}`);
    return out;
  }
  if (facts.format !== profile.modelFormat) {
    err('format', `${facts.format === 'tflite' ? 'a TFLite model' : 'an ST network binary (NBIN)'}, but ${profile.name} runs ${profile.modelFormat === 'nbin' ? 'ST NBIN models only' : 'TFLite models only'}`);
    return out;
  }
  const fw = `${table.firmware} ${table.version}`;
  if (facts.format === 'nbin') {
    const req = table.nbin;
    if (!req || !req.profiles.includes(profile.name)) {
      out.skipped.push(`NBIN header checks: ${fw}'s op table lists no NBIN requirements for ${profile.name}`);
      return out;
    }
    const h = facts.header;
    const refuse = (why: string) => err('nbin', `${why}: ${fw}'s ST runtime (${req.atonRuntime}) refuses it, ml.Model() raises RuntimeError "Failed to load network"`);
    if (h.fileBytes < req.headerBytes) refuse(`the file (${h.fileBytes} bytes) is shorter than the ${req.headerBytes}-byte NBIN header`);
    if (h.runtime.major !== req.runtime.major && h.runtime.minor !== req.runtime.minor) refuse(`built for relocatable runtime ${h.runtime.major}.${h.runtime.minor}, not ${req.runtime.major}.${req.runtime.minor}`);
    if (h.cpuId !== req.cpuId) refuse(`built for CPU part 0x${h.cpuId.toString(16).toUpperCase()} (${NBIN_CPUS[h.cpuId] ?? 'unknown'}), the board's core is 0x${req.cpuId.toString(16).toUpperCase()} (${NBIN_CPUS[req.cpuId] ?? 'unknown'})`);
    if (h.debugInfo !== req.debugInfo) refuse(`${h.debugInfo ? 'compiled with' : 'not compiled with'} epoch-block debug info (LL_ATON_EB_DBG_INFO), the firmware ${req.debugInfo ? 'requires it' : 'is built without it'}`);
    if (h.asyncMode !== req.asyncMode) refuse(`${h.asyncMode ? 'compiled for' : 'not compiled for'} the asynchronous runtime mode (LL_ATON_RT_ASYNC), the firmware ${req.asyncMode ? 'runs async' : 'runs sync'}`);
    if (req.secure === 'required' && !h.secure) refuse('not compiled with the secure option, the firmware runs secure (-mcmse)');
    out.skipped.push('NBIN runtime version string, memory pool sizes and struct sizes: behind the runtime context, not read (harness/model/nbin.ts)');
    return out;
  }
  // TFLite.
  const arena = { ...facts.arena, extra: table.arenaExtra, total: facts.arena.total + table.arenaExtra };
  out.arena = arena;
  if (!table.profiles.includes(profile.name)) {
    out.skipped.push(`operators, dtypes and arena: ${fw}'s op table does not list ${profile.name} among the boards built with TFLM`);
    return out;
  }
  if (facts.schemaVersion !== table.schemaVersion) err('schema', `schema version ${facts.schemaVersion}, ${fw} accepts ${table.schemaVersion} only: ml.Model() raises ValueError "Unsupported model schema"`);
  const hasEthos = table.ethosU.profiles.includes(profile.name);
  for (const o of facts.operators) {
    if (o.count === 0) continue;
    const uses = `${o.count} operator${o.count > 1 ? 's' : ''}`;
    if (o.builtinCode === BUILTIN_CUSTOM) {
      if (o.custom === undefined) err('op', `a CUSTOM operator code with no custom_code (${uses}): TFLM cannot resolve it, ml.Model() raises ValueError "Failed to allocate tensors"`);
      else if (!table.custom.has(o.custom) && !(hasEthos && o.custom === table.ethosU.op)) {
        const why = o.custom === table.ethosU.op ? ` (${profile.name} has no Ethos-U NPU: the firmware registers it only with ETHOS_U)` : '';
        err('op', `custom operator '${o.custom}' (${uses}) is not registered by ${fw} on ${profile.name}${why}: ml.Model() raises ValueError "Failed to allocate tensors"`);
      }
    } else if (!table.builtins.has(o.builtinCode)) {
      err('op', `operator ${o.op}${o.op.startsWith('BUILTIN(') ? '' : ` (builtin code ${o.builtinCode})`} (${uses}) is not registered by ${fw}: ml.Model() raises ValueError "Failed to allocate tensors"`);
    }
  }
  const main = facts.subgraphs[0];
  if (main) {
    for (const [kind, list] of [['input', main.inputs], ['output', main.outputs]] as const) {
      for (const t of list) {
        if (!table.dtypes.includes(t.dtype)) err('dtype', `${kind} tensor ${t.index} '${t.name}' is ${t.dtype}; ${fw}'s ml accepts ${table.dtypes.join(', ')}: ml.Model() raises ValueError "Unsupported ${kind} data type"`);
      }
    }
  }
  if (profile.mlRam === undefined) out.skipped.push(`arena: profile ${profile.name} gives no mlRam`);
  else if (arena.total > profile.mlRam) {
    warn('arena', `needs at least ${kib(arena.total)} of tensor arena (activation peak ${kib(arena.activations)}), more than the ${kib(profile.mlRam)} ${profile.name} can give ml (largest GC block): ml.Model() will fail with "Failed to allocate tensors"`);
  }
  if (hasEthos && !facts.ethosU) warn('npu', `not compiled for Ethos-U (no '${table.ethosU.op}' operator: not run through Vela): on ${profile.name} it runs on the CPU, not the NPU`);
  return out;
}
