/**
 * models: every model file's in-place address on the board, `uctypes.addressof(open(p, 'rb'))`, is
 * aligned as the profile requires and the bytes there are the image's model; every model's format
 * (0 bytes, no model, or not the format the profile's firmware runs: NBIN on the N6, TFLite elsewhere)
 * is judged from the image whatever the board answers;
 * then the inference of every model (checks/inference.ts: deterministic inputs, outputs against
 * golden files, each model alone then all in reverse order, latency, a crash as a verdict).
 * Two results:
 *   models.placement  passed | failed
 *   models.inference  passed | failed | skipped (no `ml`, or placement failed) | simulated (sim's ml)
 */
import { isModelFile, modelFormatOf, MODEL_MAGIC_BYTES } from '../../romfs/models.js';
import type { BoardProfile } from '../../profile/profile.js';
import type { CheckContext, ImageFile } from '../context.js';
import type { ModelsOptions } from '../definition.js';
import { runProbe, scenarioProgram } from '../probe.js';
import type { CheckResult } from '../result.js';
import { inferenceCheck } from './inference.js';
import { flashImage } from '../../flash/flashImage.js';

/** Bytes read from the start of each model on the board to prove which file sits there. */
export const HEAD_BYTES = 16;

/** What format a model's first bytes say it is (null when neither a TFLite flatbuffer nor an NBIN network). */
export function modelFormat(head: Uint8Array): 'tflite' | 'nbin' | null {
  return modelFormatOf(head) ?? null;
}

/**
 * Is this file a model? The one rule build, verify and flash share (harness/romfs/models.ts):
 * by name (the profile's model globs, any case) or by content (TFL3 at byte 4, NBIN at byte 0).
 */
export function isModel(path: string, bytes: Uint8Array, profile: BoardProfile): boolean {
  return isModelFile(profile, path, bytes.subarray(0, MODEL_MAGIC_BYTES));
}

export function modelFiles(files: readonly ImageFile[], profile: BoardProfile, image: Uint8Array): ImageFile[] {
  return files.filter((f) => isModel(f.path, image.subarray(f.offset, f.offset + f.size), profile));
}

const IS = { tflite: "a TFLite model ('TFL3' at byte 4)", nbin: "an ST NBIN network ('NBIN' at byte 0)" } as const;
const RUNS = { tflite: "TFLite models ('TFL3' at byte 4)", nbin: "ST NBIN networks ('NBIN' at byte 0)" } as const;

/** Why a model's bytes are not a model the board's firmware runs (undefined when they are). */
export function formatProblem(m: Pick<ImageFile, 'path' | 'size' | 'offset'>, image: Uint8Array, profile: BoardProfile): string | undefined {
  const want = profile.modelFormat;
  if (m.size === 0) return `${m.path}: 0 bytes: not a model (profile ${profile.name} runs ${RUNS[want]})`;
  const got = modelFormat(image.subarray(m.offset, m.offset + Math.min(m.size, HEAD_BYTES)));
  if (got === null) return `${m.path}: not a model: neither a TFLite flatbuffer ('TFL3' at byte 4) nor an NBIN network ('NBIN' at byte 0)`;
  if (got !== want) return `${m.path}: is ${IS[got]}, but profile ${profile.name} runs only ${RUNS[want]}`;
  return undefined;
}

/** `ml`: also ask whether the firmware has `ml` (the inference follows). */
export function placementProbe(paths: string[], root = '/rom', ml = false): string {
  return scenarioProgram('placement', { root, paths, head: HEAD_BYTES, ml });
}

/** What placement.py answers. */
export interface PlacementAnswer {
  models?: [path: string, address: number | null, headHex: string | null, tb: string | null][];
  /** Asked with `ml`: the ImportError's text when the firmware has no `ml` (else null). */
  noMl?: string | null;
  error?: string;
}

export interface PlacementFinding {
  path: string;
  offset: number;
  /** Address the board reported (null when the file could not be opened). */
  address: number | null;
  /** Where the profile's partition says it should be (origin + offset). */
  expectedAddress: number;
  align: number;
  /** The board opened the file in place and its first bytes are the image's model's. */
  bytesOk: boolean;
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
    const f: PlacementFinding = { path: m.path, offset: m.offset, address: null, expectedAddress, align, bytesOk: false, problems: [] };
    // The format is judged from the image whatever the board answers (a board without ml runs
    // no inference, so placement is the only check that sees a file that is no model).
    const format = formatProblem(m, image, profile);
    if (format) f.problems.push(format);
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
    f.bytesOk = Buffer.from(want).equals(head);
    if (!f.bytesOk) {
      f.problems.push(`${m.path}: the bytes at ${hex(address)} (${headHex.slice(0, 16)}…) are not the image's model (${Buffer.from(want).toString('hex').slice(0, 16)}…)`);
    }
    return f;
  });
}

export async function modelsCheck(ctx: CheckContext, opts: ModelsOptions): Promise<CheckResult[]> {
  const { device, profile, image } = ctx;
  const models = modelFiles(image.files, profile, image.bytes);
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
  // The placement program also says whether the board has `ml` (same round trip): a board without
  // it is never sent the inference program (a few KB, most of this check's time on a UART).
  const place = await runProbe<PlacementAnswer>(device, placementProbe(paths, '/rom', opts.inference), 'models', ctx.timeoutMs);
  const placementMs = performance.now() - t0;
  let placement: CheckResult;
  let findings: PlacementFinding[] = [];
  if (!place.value.models) {
    const formats = models.map((m) => formatProblem(m, image.bytes, profile)).filter((x): x is string => x !== undefined);
    placement = { name: 'models.placement', status: 'failed', reason: place.value.error ?? 'no answer', durationMs: placementMs, details: formats };
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
  // A model the board opened in place with the image's bytes is run even when it is misplaced
  // (alignment stays placement's verdict; the inference shows what the board does with it: a
  // crash, an NPU's error, or outputs).
  const runnable = models.filter((m) => m.size > 0 && findings.some((f) => f.path === m.path && f.bytesOk));
  if (runnable.length === 0) {
    return [placement, { name: 'models.inference', status: 'skipped', reason: 'not attempted: model placement failed', durationMs: 0, details: [] }];
  }
  if (typeof place.value.noMl === 'string') {
    // The reason inference.py gives for the same ImportError.
    return [placement, { name: 'models.inference', status: 'skipped', reason: `no ml module on this firmware (${place.value.noMl})`, durationMs: 0, details: [] }];
  }
  const holds = async (): Promise<string | undefined> => {
    const again = await runProbe<PlacementAnswer>(device, placementProbe(paths), 'models', ctx.timeoutMs);
    if (!again.value.models) return again.value.error ?? 'no answer';
    const bad = judgePlacement(runnable, again.value.models, image.bytes, profile).find((f) => !f.bytesOk);
    return bad?.problems[bad.problems.length - 1];
  };
  // After a power cycle: the board must still hold the image where it was. A board whose ROMFS
  // is RAM (QEMU) lost it with the power, which a cam's flash does not: it is written again
  // (unless the scenario never flashes), so the checks after this one see what they would on a cam.
  const recheck = async (): Promise<string | undefined> => {
    const why = await holds();
    if (!why || profile.partition.medium !== 'ram' || ctx.scenario.flash === 'never') return why;
    ctx.log(`models: the board's RAM ROMFS was lost with the power cycle (${why}); writing the image again`);
    await flashImage(device, { prepared: image.prepared, allowMisaligned: true, onProgress: false });
    await device.softReset({ timeoutMs: 30_000 });
    return holds();
  };
  return [placement, await inferenceCheck(ctx, opts, runnable, recheck)];
}
