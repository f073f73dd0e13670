/**
 * models: every model file's in-place address on the board, `uctypes.addressof(open(p, 'rb'))`, is
 * aligned as the profile requires and the bytes there are the image's model (format checked);
 * then the first inference: `ml.Model(p)` and one `predict` on a zero input of the model's input
 * shape, outputs of the expected shape. Two round trips, two results:
 *   models.placement  passed | failed
 *   models.inference  passed | failed | skipped (no `ml`, or placement failed) | simulated (sim's ml)
 */
import { isDeepStrictEqual } from 'node:util';
import { basename } from 'node:path';
import { minimatch } from 'minimatch';
import type { BoardProfile } from '../../profile/profile.js';
import type { CheckContext, ImageFile } from '../context.js';
import type { ModelsOptions } from '../definition.js';
import { PY_PRELUDE, pyEmit, pyValue, runProbe } from '../probe.js';
import type { CheckResult } from '../result.js';

/** Bytes read from the start of each model on the board to prove which file sits there. */
export const HEAD_BYTES = 16;

export function isModelFile(path: string, profile: BoardProfile): boolean {
  const name = basename(path);
  return profile.models.some((g) => minimatch(name, g, { dot: true }));
}

export function modelFiles(files: readonly ImageFile[], profile: BoardProfile): ImageFile[] {
  return files.filter((f) => isModelFile(f.path, profile));
}

/** What format a model's first bytes say it is (null when neither a TFLite flatbuffer nor an NBIN network). */
export function modelFormat(head: Uint8Array): 'tflite' | 'nbin' | null {
  const s = (a: number, b: number) => String.fromCharCode(...head.subarray(a, b));
  if (head.length >= 8 && s(4, 8) === 'TFL3') return 'tflite';
  if (head.length >= 4 && s(0, 4) === 'NBIN') return 'nbin';
  return null;
}

export function placementProbe(paths: string[], root = '/rom'): string {
  return `${PY_PRELUDE}import binascii
try:
    import uctypes
except ImportError:
    uctypes = None
def _hil_place(paths):
    if uctypes is None:
        return {'error': 'no uctypes module on this firmware: in-place addresses cannot be read'}
    out = []
    for p in paths:
        try:
            f = open(${JSON.stringify(root + '/')} + p, 'rb')
            try:
                a = uctypes.addressof(f)
                h = f.read(${HEAD_BYTES})
            finally:
                f.close()
            out.append([p, a, binascii.hexlify(h).decode(), None])
        except Exception as e:
            out.append([p, None, None, _hil_tb(e)])
    return {'models': out}
${pyEmit(`_hil_place(${pyValue(paths)})`)}
`;
}

export function inferenceProbe(paths: string[], root = '/rom'): string {
  return `${PY_PRELUDE}
def _hil_zero(buf, shape, dtype):
    try:
        buf[:] = bytes(len(buf))
    except Exception:
        for i in range(len(buf)):
            buf[i] = 0
def _hil_shape(o):
    s = getattr(o, 'shape', None)
    if s is None:
        return [len(o)]
    return [int(x) for x in s]
def _hil_infer(paths):
    try:
        import ml
    except ImportError as e:
        return {'ml': False, 'why': 'no ml module on this firmware (%s)' % e}
    out = []
    for p in paths:
        r = {'path': p}
        try:
            m = ml.Model(${JSON.stringify(root + '/')} + p)
            text = str(m)
            r['repr'] = text[:300]
            r['simulated'] = bool(getattr(m, 'simulated', False)) or ('simulated' in text.lower())
            r['input'] = [[int(x) for x in s] for s in m.input_shape]
            r['want'] = [[int(x) for x in s] for s in m.output_shape]
            res = m.predict([_hil_zero for s in m.input_shape])
            r['got'] = [_hil_shape(o) for o in res]
        except Exception as e:
            r['tb'] = _hil_tb(e)
        out.append(r)
    return {'ml': True, 'models': out}
${pyEmit(`_hil_infer(${pyValue(paths)})`)}
`;
}

export interface PlacementFinding {
  path: string;
  offset: number;
  /** Address the board reported (null when the file could not be opened). */
  address: number | null;
  /** Where the profile's partition says it should be (origin + offset). */
  expectedAddress: number;
  align: number;
  problems: string[];
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

/** Judge what the board reported for each model (pure: unit-tested). */
export function judgePlacement(
  models: readonly ImageFile[],
  answer: [path: string, address: number | null, headHex: string | null, tb: string | null][],
  image: Uint8Array,
  profile: BoardProfile,
): PlacementFinding[] {
  const align = profile.align.models;
  return models.map((m) => {
    const expectedAddress = profile.partition.origin + m.offset;
    const got = answer.find((a) => a[0] === m.path);
    const f: PlacementFinding = { path: m.path, offset: m.offset, address: null, expectedAddress, align, problems: [] };
    if (!got) {
      f.problems.push(`${m.path}: no answer from the board`);
      return f;
    }
    const [, address, headHex, tb] = got;
    if (tb !== null || address === null || headHex === null) {
      f.problems.push(`${m.path}: cannot be opened in place: ${(tb ?? '').trimEnd().split(/\r?\n/).pop()}`);
      return f;
    }
    f.address = address;
    const mod = address % align;
    if (mod !== 0) {
      f.problems.push(`${m.path}: data at image offset ${m.offset} sits at address ${hex(address)}, which is ${mod} mod ${align}: not ${align}-byte aligned as profile ${profile.name} requires for models`);
    }
    const head = Buffer.from(headHex, 'hex');
    const want = image.subarray(m.offset, m.offset + head.length);
    if (!Buffer.from(want).equals(head)) {
      f.problems.push(`${m.path}: the bytes at ${hex(address)} (${headHex.slice(0, 16)}…) are not the image's model (${Buffer.from(want).toString('hex').slice(0, 16)}…)`);
    } else if (m.size > 0 && modelFormat(head) === null) {
      f.problems.push(`${m.path}: not a model: neither a TFLite flatbuffer ('TFL3' at byte 4) nor an NBIN network`);
    }
    return f;
  });
}

export interface InferenceModel {
  path: string;
  repr?: string;
  simulated?: boolean;
  input?: number[][];
  want?: number[][];
  got?: number[][];
  tb?: string;
}

export async function modelsCheck(ctx: CheckContext, opts: ModelsOptions): Promise<CheckResult[]> {
  const { device, profile, image } = ctx;
  const models = modelFiles(image.files, profile);
  const t0 = performance.now();
  if (models.length === 0) {
    const status = opts.requireModels ? 'failed' : 'skipped';
    const reason = `the image holds no model files (profile ${profile.name} matches ${profile.models.join(', ')})`;
    return [
      { name: 'models.placement', status, reason, durationMs: 0, details: [] },
      { name: 'models.inference', status: 'skipped', reason: 'no models', durationMs: 0, details: [] },
    ];
  }
  const paths = models.map((m) => m.path);
  const place = await runProbe<{ models?: [string, number | null, string | null, string | null][]; error?: string }>(device, placementProbe(paths), 'models', ctx.timeoutMs);
  const placementMs = performance.now() - t0;
  let placement: CheckResult;
  let findings: PlacementFinding[] = [];
  if (!place.value.models) {
    placement = { name: 'models.placement', status: 'failed', reason: place.value.error ?? 'no answer', durationMs: placementMs, details: [] };
  } else {
    findings = judgePlacement(models, place.value.models, image.bytes, profile);
    const problems = findings.flatMap((f) => f.problems);
    const details = findings.map((f) =>
      f.address === null ? `${f.path}: not opened` : `${f.path}: offset ${f.offset}, address ${hex(f.address)} (${f.address % f.align === 0 ? `${f.align}-byte aligned` : `${f.address % f.align} mod ${f.align}`})${f.address !== f.expectedAddress ? `; profile ${profile.name} places it at ${hex(f.expectedAddress)}` : ''}`,
    );
    const data = findings.map(({ problems: _p, ...rest }) => rest);
    placement = problems.length > 0
      ? { name: 'models.placement', status: 'failed', reason: problems[0]! + (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''), durationMs: placementMs, details: [...problems, ...details], data }
      : { name: 'models.placement', status: 'passed', durationMs: placementMs, details, data };
  }
  if (!opts.inference) return [placement, { name: 'models.inference', status: 'skipped', reason: 'inference disabled in the scenario (models.inference: false)', durationMs: 0, details: [] }];
  if (placement.status !== 'passed') {
    return [placement, { name: 'models.inference', status: 'skipped', reason: 'not attempted: model placement failed', durationMs: 0, details: [] }];
  }
  const t1 = performance.now();
  const inf = await runProbe<{ ml: boolean; why?: string; models?: InferenceModel[] }>(device, inferenceProbe(paths), 'inference', ctx.timeoutMs);
  const durationMs = performance.now() - t1;
  if (!inf.value.ml) {
    return [placement, { name: 'models.inference', status: 'skipped', reason: inf.value.why ?? 'no ml module', durationMs, details: [] }];
  }
  const results = inf.value.models ?? [];
  const problems: string[] = [];
  const details: string[] = [];
  let simulated = false;
  for (const m of results) {
    if (m.simulated) simulated = true;
    if (m.tb) {
      problems.push(`${m.path}: first inference failed: ${m.tb.trimEnd().split(/\r?\n/).pop()}`);
      details.push(`${m.path}:`, ...m.tb.trimEnd().split(/\r?\n/).map((l) => `  ${l}`));
      continue;
    }
    const want = opts.outputShapes[m.path] ?? m.want;
    if (!isDeepStrictEqual(m.got, want)) {
      problems.push(`${m.path}: predict returned outputs of shape ${JSON.stringify(m.got)}, expected ${JSON.stringify(want)}`);
      continue;
    }
    details.push(`${m.path}: input ${JSON.stringify(m.input)} -> output ${JSON.stringify(m.got)}${m.simulated ? ' (simulated)' : ''}${m.repr ? `; ${m.repr}` : ''}`);
  }
  for (const p of paths) if (!results.some((r) => r.path === p)) problems.push(`${p}: no inference answer`);
  const data = results.map(({ tb: _t, ...r }) => r);
  if (problems.length > 0) {
    return [placement, { name: 'models.inference', status: 'failed', reason: problems[0]! + (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''), durationMs, details: [...problems, ...details], data }];
  }
  if (simulated || ctx.simulatedBoard) {
    return [placement, {
      name: 'models.inference', status: 'simulated', durationMs, data, details,
      reason: 'simulated board: placement and format checked, the network itself was not run',
    }];
  }
  return [placement, { name: 'models.inference', status: 'passed', durationMs, details, data }];
}
