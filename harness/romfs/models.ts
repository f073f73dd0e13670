/**
 * The one rule for what a model is, and the one judge of where model data sits. Build (which
 * aligns models), verify (the release gate), `hil flash` preflight and the scenario's models
 * check all call these, so they cannot disagree.
 *
 * A file is a model when its name matches one of the profile's model globs, case-insensitively
 * (`UPPER.TFLITE`, `x.Tflite`; the N6 also lists `*.bin` and `*.onnx`, as OpenMV IDE aligns
 * them), or when its content is a model, whatever its name: a TFLite flatbuffer (`TFL3` at byte
 * 4) or an ST network binary (`NBIN` at byte 0). Alignment is judged on the data's address on the
 * board, partition origin + offset in the image, because that is what the runtime gets.
 */
import type { BoardProfile, ModelFormat } from '../profile/profile.js';
import { globMatches } from './glob.js';

const TFL3 = [0x54, 0x46, 0x4c, 0x33];
const NBIN = [0x4e, 0x42, 0x49, 0x4e];
const at = (b: Uint8Array, pos: number, magic: number[]) => b.length >= pos + magic.length && magic.every((m, i) => b[pos + i] === m);

/** Bytes of a file's head the content rule needs (read this many to decide). */
export const MODEL_MAGIC_BYTES = 8;

/** The model format the bytes hold, by content: 'tflite' (TFL3 at 4), 'nbin' (NBIN at 0), or undefined. */
export function modelFormatOf(data: Uint8Array): ModelFormat | undefined {
  if (at(data, 4, TFL3)) return 'tflite';
  if (at(data, 0, NBIN)) return 'nbin';
  return undefined;
}

/** Globs that say "model" when no profile is given (OpenMV IDE's list). */
export const DEFAULT_MODEL_GLOBS = ['*.tflite'];

/** Does the name match one of the model globs (case-insensitively)? `path` is inside the image, no leading slash. */
export function isModelName(globs: readonly string[], path: string): boolean {
  return globs.some((g) => globMatches(g, path));
}

/**
 * THE model rule: name (profile globs, any case) or content (TFL3 / NBIN). `data` may be the
 * whole file or just its first MODEL_MAGIC_BYTES bytes; without it only the name decides.
 */
export function isModelFile(profile: Pick<BoardProfile, 'models'> | undefined, path: string, data?: Uint8Array): boolean {
  if (isModelName(profile?.models ?? DEFAULT_MODEL_GLOBS, path)) return true;
  return data !== undefined && modelFormatOf(data) !== undefined;
}

export interface ModelPlacement {
  path: string;
  /** Offset of the data from the image's first byte. */
  offset: number;
  /** origin + offset: where the runtime finds the data. */
  address: number;
  /** The alignment the profile requires for models. */
  align: number;
}

/** A file as the judge needs it: path, data offset, and its bytes (or their head) for the content rule. */
export interface PlacedFile {
  path: string;
  offset: number;
  data?: Uint8Array;
  /** Already judged by isModelFile (e.g. by the builder, which saw the content): skips the rule. */
  model?: boolean;
}

/**
 * THE address judge: every model (by isModelFile) whose data address, partition origin +
 * offset, is not a multiple of the profile's model alignment. Used by build (its "aligned for"
 * claim), verify and `hil flash` preflight alike.
 */
export function misalignedModelData(files: readonly PlacedFile[], profile: Pick<BoardProfile, 'models' | 'align'>, origin: number): ModelPlacement[] {
  const align = profile.align.models;
  const out: ModelPlacement[] = [];
  for (const f of files) {
    if (!(f.model ?? isModelFile(profile, f.path, f.data))) continue;
    const address = origin + f.offset;
    if (address % align !== 0) out.push({ path: f.path, offset: f.offset, address, align });
  }
  return out;
}

/** The profile's format vs the file's: a message when the board's `ml` cannot run it, else undefined. */
export function modelFormatProblem(profile: Pick<BoardProfile, 'name' | 'modelFormat'>, data: Uint8Array): string | undefined {
  const fmt = modelFormatOf(data);
  if (fmt === undefined || fmt === profile.modelFormat) return undefined;
  const name = (f: ModelFormat) => (f === 'tflite' ? 'a TFLite model (TFL3)' : 'an ST network binary (NBIN)');
  return `${name(fmt)}, but ${profile.name} runs ${profile.modelFormat === 'nbin' ? 'ST NBIN models only' : 'TFLite models only'}`;
}
