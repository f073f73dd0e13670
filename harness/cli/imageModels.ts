/**
 * The models in a ROMFS image, parsed and checked against a board (issue 14): composes
 * harness/romfs (which files the firmware opens, the one model rule) with harness/model (what a
 * model declares, what the board's firmware does with it). Kept here so each of those stays
 * standalone.
 */
import type { BoardProfile } from '../profile/profile.js';
import { firmwareView, type FirmwareFileData } from '../romfs/firmwareView.js';
import { mountVfsRom } from '../romfs/vfsRom.js';
import { isModelFile, modelFormatOf } from '../romfs/models.js';
import type { VerifyProblem } from '../romfs/verify.js';
import type { Inspection } from '../romfs/inspect.js';
import { describeModel, checkModel, type ModelCheck, type ModelFacts } from '../model/check.js';
import type { OpTable } from '../model/opTable.js';

export interface ImageModel {
  path: string;
  offset: number;
  facts: ModelFacts;
}

/** Files the firmware opens that are models by the one rule and hold one (TFL3 or NBIN), with their bytes. */
export function firmwareModels(bytes: Uint8Array, profile: BoardProfile, partitionSize?: number): { path: string; offset: number; data: Uint8Array }[] {
  const opts = { bufferLength: Math.max(partitionSize ?? profile.partition.size, bytes.length) };
  const view = firmwareView(bytes, opts);
  if (view.mount !== 'ok') return [];
  const vfs = mountVfsRom(bytes, opts);
  const out: { path: string; offset: number; data: Uint8Array }[] = [];
  for (const e of view.entries) {
    if (e.type !== 'file' || !e.open || !('offset' in e.open)) continue;
    const o = e.open as FirmwareFileData;
    if (o.outside) continue;
    const data = vfs.read(o.offset, o.length);
    if (isModelFile(profile, e.display, data) && modelFormatOf(data) !== undefined) out.push({ path: e.display, offset: o.offset, data });
  }
  return out;
}

/**
 * verify's model findings for the profile: parse, schema, operators, dtypes, arena, NPU (the
 * format mismatch is verify's own check already, so it is not repeated here).
 */
export function modelProblems(bytes: Uint8Array, profile: BoardProfile, table: OpTable, partitionSize?: number): { problems: VerifyProblem[]; checks: (ModelCheck & { path: string })[] } {
  const problems: VerifyProblem[] = [];
  const checks: (ModelCheck & { path: string })[] = [];
  for (const m of firmwareModels(bytes, profile, partitionSize)) {
    const c = checkModel(describeModel(m.data), profile, table);
    checks.push({ path: m.path, ...c });
    for (const f of c.findings) if (f.code !== 'format') problems.push({ severity: f.severity, path: m.path, message: f.message });
  }
  return { problems, checks };
}

/** inspect's view: every file the strict parse holds that is a model (content rule), described, and checked per profile given. */
export function inspectModels(bytes: Uint8Array, ins: Inspection, profiles: BoardProfile[], table: OpTable): (ImageModel & { checks: Record<string, ModelCheck> })[] {
  const out: (ImageModel & { checks: Record<string, ModelCheck> })[] = [];
  for (const e of ins.entries) {
    if (e.type !== 'file' || (e.kind !== 'tflite' && e.kind !== 'nbin')) continue;
    const facts = describeModel(bytes.subarray(e.offset, e.offset + e.size));
    const checks: Record<string, ModelCheck> = {};
    for (const p of profiles) checks[p.name] = checkModel(facts, p, table);
    out.push({ path: e.path, offset: e.offset, facts, checks });
  }
  return out;
}

const shape = (s: number[]) => (s.length ? s.join('x') : 'scalar');

/** One line per model (and one per finding) for inspect's text output. */
export function formatModels(models: ReturnType<typeof inspectModels>, table: OpTable): string[] {
  const lines: string[] = [];
  for (const m of models) {
    const f = m.facts;
    if ('error' in f) lines.push(`  /${m.path}: ${f.format} model that does not parse: ${f.error}`);
    else if (f.format === 'nbin') {
      const h = f.header;
      lines.push(`  /${m.path}: NBIN runtime ${h.runtime.major}.${h.runtime.minor}, CPU 0x${h.cpuId.toString(16)}, code ${h.sizes.code} bytes, exec RAM ${h.sizes.execRamXip} bytes (XIP), params at ${h.sizes.paramsOffset}`);
    } else {
      const sg = f.subgraphs[0];
      const io = sg ? ` in ${sg.inputs.map((t) => `${t.dtype} ${shape(t.shape)}`).join(', ')} -> out ${sg.outputs.map((t) => `${t.dtype} ${shape(t.shape)}`).join(', ')}` : '';
      lines.push(`  /${m.path}: TFLite schema ${f.schemaVersion}, ${f.subgraphs.length} subgraph${f.subgraphs.length === 1 ? '' : 's'},${io}; ops ${f.operators.filter((o) => o.count > 0).map((o) => o.op).join(' ')}; arena >= ${f.arena.total + table.arenaExtra} bytes`);
    }
    for (const c of Object.values(m.checks)) {
      for (const x of c.findings) lines.push(`    ${x.severity}: ${c.profile} (${c.firmware}): ${x.message}`);
    }
  }
  return lines;
}
