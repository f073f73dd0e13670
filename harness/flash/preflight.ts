/**
 * Checks made before anything is written to the board: the partition exists, the image fits it
 * (size as the board reports it), model data sits on the profile's alignment (address = partition
 * origin + offset), and every `.mpy` file is one the board can load. Pure: takes what
 * prepareImage and probeBoard found, throws FlashInputError (exit 2) naming image, file and device.
 */
import type { BoardProfile } from '../profile/profile.js';
import type { RomfsFileEntry } from '../romfs/parse.js';
import { isModelFile, misalignedModelData, MODEL_MAGIC_BYTES } from '../romfs/models.js';
import type { BoardFacts } from './probeBoard.js';
import type { PreparedImage } from './prepareImage.js';
import { FlashInputError } from './errors.js';
import { archNumber, decodeBoardMpy, decodeMpyHeader, mpyIncompatibility, type MpyFeatures } from './mpyCompat.js';

export interface PreflightOptions {
  partition: number;
  allowMisaligned?: boolean;
  /** Flash an image the firmware would read differently from what it holds (warning instead). */
  allowFirmwareFaults?: boolean;
}

/** What preflight reads of the board's answers (the full probe's, or the skip probe's before a skip). */
export type PreflightFacts = Pick<BoardFacts, 'partitionErrno' | 'segments' | 'partitionSize' | 'origin' | 'mpy'>;

export interface PreflightResult {
  partitionSize: number;
  /** Address used for the alignment check. */
  origin: number;
  /** Non-fatal findings (e.g. misaligned models let through by allowMisaligned). */
  warnings: string[];
}

export interface MisalignedModel {
  path: string;
  offset: number;
  address: number;
  align: number;
}

/** The one model rule (harness/romfs/models.ts): profile globs in any case, or TFL3/NBIN content. */
export function isModel(path: string, profile: BoardProfile, data?: Uint8Array): boolean {
  return isModelFile(profile, path, data);
}

/** Model files whose data address is not a multiple of the profile's model alignment: the judge build and verify use. */
export function misalignedModels(files: RomfsFileEntry[], profile: BoardProfile, origin: number, image?: Uint8Array): MisalignedModel[] {
  return misalignedModelData(files.map((f) => ({ path: f.path, offset: f.offset, data: image?.subarray(f.offset, f.offset + Math.min(f.size, MODEL_MAGIC_BYTES)) })), profile, origin);
}

/** The board's own .mpy features when it reports them, else the profile's (sub-version unknown). */
export function boardMpyFeatures(facts: Pick<BoardFacts, 'mpy'>, profile: BoardProfile): MpyFeatures {
  if (typeof facts.mpy === 'number') return decodeBoardMpy(facts.mpy);
  return { version: profile.mpy.version, arch: archNumber(profile.mpy.arch) };
}

/** What is wrong with an image the firmware would not read as written. */
function firmwareFaultFinding(img: PreparedImage, device: string): string {
  return `image ${img.name} for device ${device}: the firmware would not read this image as written: ${img.firmwareFault}`;
}

/** The refusal of such an image (made before the board is touched). */
export function firmwareFaultMessage(img: PreparedImage, device: string): string {
  return `${firmwareFaultFinding(img, device)}; \`hil image verify\` says more`;
}

export function preflight(img: PreparedImage, facts: PreflightFacts, profile: BoardProfile, device: string, opts: PreflightOptions): PreflightResult {
  const where = `image ${img.name} for device ${device}`;
  if (typeof facts.partitionErrno === 'number') {
    throw new FlashInputError(
      `device ${device}: partition ${opts.partition} does not exist (rom_ioctl(2, ${opts.partition}) = ${facts.partitionErrno}, board has ${facts.segments ?? 0} ROMFS segment(s))`,
    );
  }
  const segment = profile.segments[opts.partition] ?? profile.partition;
  const partitionSize = facts.partitionSize ?? segment.size;
  if (img.length > partitionSize) {
    throw new FlashInputError(
      `${where}: image is ${img.length} bytes, larger than partition ${opts.partition} (${partitionSize} bytes${facts.partitionSize !== null ? ' as the board reports it' : ' per profile ' + profile.name})`,
    );
  }
  if (img.firmwareFault && !opts.allowFirmwareFaults) throw new FlashInputError(firmwareFaultMessage(img, device));
  const origin = facts.origin ?? segment.origin;
  const files = img.entries.filter((e): e is RomfsFileEntry => e.type === 'file');
  const warnings: string[] = img.firmwareFault ? [firmwareFaultFinding(img, device)] : [];
  const bad = misalignedModels(files, profile, origin, img.bytes);
  if (bad.length > 0) {
    const first = bad[0]!;
    const more = bad.length > 1 ? ` (and ${bad.length - 1} more)` : '';
    const msg = `${where}: model '${first.path}' data at offset ${first.offset} (address 0x${first.address.toString(16)}) is not ${first.align}-byte aligned as profile ${profile.name} requires${more}`;
    if (!opts.allowMisaligned) throw new FlashInputError(`${msg}; rebuild the image with hil or pass --allow-misaligned`);
    warnings.push(msg);
  }
  const board = boardMpyFeatures(facts, profile);
  for (const f of files) {
    if (!f.path.endsWith('.mpy')) continue;
    const hdr = decodeMpyHeader(img.bytes.subarray(f.offset, f.offset + Math.min(f.size, 4)));
    if (!hdr) throw new FlashInputError(`${where}: file '${f.path}' is not a MicroPython .mpy file (no 'M' header)`);
    const why = mpyIncompatibility(hdr, board);
    if (why) {
      const src = typeof facts.mpy === 'number' ? `sys.implementation._mpy=${facts.mpy}` : `profile ${profile.name}`;
      throw new FlashInputError(`${where}: file '${f.path}' cannot load on the board: ${why} (${src})`);
    }
  }
  return { partitionSize, origin, warnings };
}
