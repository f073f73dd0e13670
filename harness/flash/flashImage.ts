/**
 * `hil flash` as a library call: prepare (build/parse) the image, then skip when the board
 * already holds it (one small read-only round trip: the segment's sha256 computed on the board,
 * equal to the image's, after the checks a write gets), else probe the board (reads only),
 * refuse bad input before writing anything, pick a strategy, write (streamed with resume, or
 * through the QEMU loader), then prove it: soft reset, then in one round trip the board-side
 * sha256 of the partition's image bytes and /rom listing what the image holds (without the mount
 * check, the hash alone). Only then does it return a result.
 */
import type { Device } from '../device/types.js';
import type { FlashStrategyName, PartitionSpec } from '../profile/profile.js';
import { FlashInputError } from './errors.js';
import type { StrategyChoice } from './chooseStrategy.js';
import { hashBoardImage } from './hashBoardImage.js';
import type { TransferPlan } from './planTransfer.js';
import { firmwareFaultMessage, preflight, type PreflightFacts, type PreflightResult } from './preflight.js';
import { prepareImage, type ImageInput, type PreparedImage } from './prepareImage.js';
import { probeBoard, probeHeldImage, type BoardFacts, type HeldImage } from './probeBoard.js';
import { createProgress, silentProgress, type ProgressReporter } from './progress.js';
import type { FlashStrategy, StrategyTarget } from './strategies/types.js';
import { retryLinkFault } from './retryLinkFault.js';

export interface FlashOptions {
  /** Image bytes, or a path to an image file or a source directory (built with the device's profile). */
  image?: Uint8Array;
  imagePath?: string;
  sourceDir?: string;
  /** Name used in messages for `image` bytes. */
  imageName?: string;
  /**
   * The image already read and checked (prepareImage.ts's checkImageBytes): not read or parsed
   * again, and its firmware view (what the proof expects `/rom` to list) walked at most once.
   */
  prepared?: PreparedImage;
  /** ROMFS segment number (`rom_ioctl` id; `--segment`), default 0. */
  partition?: number;
  /** Write even when the board already holds the image. */
  force?: boolean;
  /** Flash images whose models are not aligned for the profile (reported as a warning). */
  allowMisaligned?: boolean;
  /** Flash an image the firmware would not read as written (reported as a warning; scenarios that judge it). */
  allowFirmwareFaults?: boolean;
  /** Use this strategy (it must be in the profile's list and the board must support it); default auto. */
  strategy?: FlashStrategyName | 'auto';
  /** Compress: undefined = when it pays, false = never, true = always (board needs deflate). */
  compress?: boolean;
  /** Override the chunk size computed from the board's free heap. */
  chunkSize?: number;
  /** Link-fault retries during the transfer (default 5). */
  retries?: number;
  /** Progress: a reporter, true for the default (TTY bar / quiet lines on stderr), false for none. */
  onProgress?: ProgressReporter | boolean;
  /** Transfer plans shared by the flashes of one run (an image is compressed once, not per board). */
  planCache?: Map<string, TransferPlan>;
  /** Skip the soft reset + /rom listing check (tests of partitions other than 0 only). */
  skipMountCheck?: boolean;
}

export interface FlashResult {
  device: string;
  image: string;
  /** How it was written; null when skipped (nothing written, so no strategy was chosen). */
  strategy: FlashStrategyName | null;
  /** How the strategy was chosen (auto or requested), why it fits, and what was skipped; null when skipped. */
  strategyChoice: StrategyChoice | null;
  partition: number;
  imageBytes: number;
  /** Payload bytes the board acknowledged (compressed size when compressed; 0 when skipped). */
  bytesSent: number;
  compressed: boolean;
  /** Whole operation, probe to proof. */
  elapsedMs: number;
  /** Image bytes per second over the whole operation. */
  rate: number;
  /** The board already held the image: nothing written. */
  skipped: boolean;
  /** sha256 of the partition's image bytes as computed on the board (equals the image's). */
  verifiedSha256: string;
  /** Block indexes transfers resumed from after link faults. */
  resumedFrom: number[];
  /** What was done on the way worth knowing: each resume (written on without erase, or erased and restarted), write-complete answers, DFU steps. */
  notes: string[];
  /** /rom was checked after a soft reset. */
  mountChecked: boolean;
  warnings: string[];
}

function imageInput(opts: FlashOptions): ImageInput {
  if (opts.prepared) return { image: opts.prepared.bytes, name: opts.prepared.name };
  if (opts.image) return { image: opts.image, name: opts.imageName };
  if (opts.sourceDir) return { sourceDir: opts.sourceDir };
  if (opts.imagePath) return { imagePath: opts.imagePath };
  throw new TypeError('flashImage: give image, imagePath or sourceDir');
}

export async function flashImage(device: Device, opts: FlashOptions): Promise<FlashResult> {
  const started = performance.now();
  const partition = opts.partition ?? 0;
  const baseProgress: ProgressReporter =
    opts.onProgress === true || opts.onProgress === undefined ? createProgress({ label: `flash ${device.name}` })
    : opts.onProgress === false ? silentProgress
    : opts.onProgress;
  const notes: string[] = [];
  const progress: ProgressReporter = { ...baseProgress, note: (m) => { notes.push(m); baseProgress.note(m); } };
  const profile = device.profile;
  const segment = profile.segments[partition];
  if (!segment) {
    throw new FlashInputError(`device ${device.name}: profile ${profile.name} has no segment ${partition} (segments 0..${profile.segments.length - 1})`);
  }

  const img: PreparedImage = opts.prepared ?? (await prepareImage(imageInput(opts), profile));
  // Refused before the board is touched (preflight repeats it for callers that probe themselves).
  if (img.firmwareFault && !opts.allowFirmwareFaults) throw new FlashInputError(firmwareFaultMessage(img, device.name));
  const requested = opts.strategy === 'auto' ? undefined : opts.strategy;
  // A strategy the profile does not list is bad input whatever the board holds.
  if (requested) (await import('./chooseStrategy.js')).refuseUnlisted(profile, requested);
  const preflightOpts = { partition, allowMisaligned: opts.allowMisaligned, allowFirmwareFaults: opts.allowFirmwareFaults };

  const result = (over: Partial<FlashResult> & Pick<FlashResult, 'skipped' | 'verifiedSha256' | 'strategy' | 'strategyChoice' | 'warnings'>): FlashResult => {
    const elapsedMs = performance.now() - started;
    return {
      device: device.name,
      image: img.name,
      partition,
      imageBytes: img.length,
      bytesSent: 0,
      compressed: false,
      elapsedMs,
      rate: elapsedMs > 0 ? (img.length * 1000) / elapsedMs : 0,
      resumedFrom: [],
      notes,
      mountChecked: false,
      ...over,
    };
  };

  // Skip-if-same first, in one small round trip (flash/skip_probe.py): the segment's hash, size,
  // address and .mpy, nothing a write needs. A skip is claimed only on equal hashes, after the
  // same checks a write gets (size, model alignment, .mpy); it plans, resets and loads nothing more.
  let held: HeldImage | undefined;
  if (!opts.force) {
    held = await retryLinkFault('skip check', () => probeHeldImage(device, partition, img.length), progress);
    if (held.sha256 === img.sha256) {
      const checked = preflight(img, heldFacts(held), profile, device.name, preflightOpts);
      for (const w of checked.warnings) progress.note(`warning: ${w}`);
      progress.note(`board already holds this image (sha256 ${held.sha256.slice(0, 16)}…, computed on the board, equals the image's): nothing written`);
      return result({ skipped: true, verifiedSha256: held.sha256, strategy: null, strategyChoice: null, warnings: checked.warnings });
    }
  }

  // The image differs (or --force, or the board could not hash it): everything writing needs.
  // The segment is hashed again only when the skip probe could not hash it (the full probe
  // then says why, or hashes it where the skip probe's reading did not reach).
  const hashAgain = held !== undefined && held.sha256 === null;
  const facts: BoardFacts = await retryLinkFault('probe', () => probeBoard(device, partition, hashAgain ? img.length : 0, img.length), progress);
  const checked: PreflightResult = preflight(img, facts, profile, device.name, preflightOpts);
  for (const w of checked.warnings) progress.note(`warning: ${w}`);
  const { chooseStrategy, qemuLoaderHook, STRATEGIES } = await import('./strategyTable.js');
  const choice = chooseStrategy(
    { profile, facts, partition, segment, qemuLoaderAvailable: qemuLoaderHook(device) !== undefined, requested },
    device.name,
  );
  const strategyName = choice.name;
  const strategy = STRATEGIES[strategyName];
  const target: StrategyTarget = { device, partition, segment, facts, length: img.length, progress };
  // Everything below may write: first make sure the written image can also be proven.
  refuseUnwritable(img.length, facts, segment, strategy, target, device.name);
  const written = { strategy: strategyName, strategyChoice: choice, warnings: checked.warnings };

  if (hashAgain) {
    const current = facts.currentSha256 ?? (await retryLinkFault('hash', () => hashBoardImage(device, partition, img.length), progress));
    if (current === img.sha256) {
      progress.note(`board already holds this image (sha256 ${current.slice(0, 16)}…, computed on the board, equals the image's): nothing written`);
      return result({ ...written, skipped: true, verifiedSha256: current });
    }
  }

  // Only a flash that writes needs these (a skip is decided above without them). One after the
  // other: jest's ESM loader fails parallel dynamic imports that share a module.
  const { cachedPlan } = await import('./planTransfer.js');
  const { sendImage } = await import('./sendImage.js');
  const { proveAfterReset, firmwareListing, verifyBoardImage } = await import('./verifyFlash.js');
  let bytesSent = 0;
  let compressed = false;
  let resumedFrom: number[] = [];
  if (strategy.kind === 'stream') {
    const unit = strategy.writeUnit(target);
    // Erasing the same range again is harmless, so a lost answer is asked for by erasing again.
    await retryLinkFault('erase', () => strategy.prepare(target, unit), progress);
    const plan = cachedPlan(opts.planCache, img.bytes, img.sha256, facts, { minWrite: unit, compress: opts.compress, chunkSize: opts.chunkSize });
    compressed = plan.compressed;
    let sent;
    try {
      sent = await sendImage(target, strategy, img.bytes, plan, unit, { progress, retries: opts.retries });
    } finally {
      progress.finish();
    }
    await retryLinkFault('write-complete', () => strategy.complete(target), progress);
    bytesSent = sent.bytesSent;
    resumedFrom = sent.resumedFrom;
  } else {
    const w = await strategy.write(target, img.bytes);
    for (const n of w.notes) progress.note(n);
    bytesSent = img.length;
  }

  const mountChecked = partition === 0 && !opts.skipMountCheck;
  // /rom lists what the firmware's VfsRom lists (the scenario's listing check judges the rest).
  // With the mount check, the hash is asked in the same round trip after the soft reset.
  const verifiedSha256 = mountChecked
    ? await retryLinkFault('verification', () => proveAfterReset(device, partition, img.bytes, img.sha256, firmwareListing(img)), progress)
    : await retryLinkFault('verification', () => verifyBoardImage(device, partition, img.bytes, img.sha256), progress);
  return result({ ...written, skipped: false, verifiedSha256, bytesSent, compressed, resumedFrom, mountChecked });
}

/** The skip probe's answers as preflight reads them (it answers only for a segment that exists). */
function heldFacts(h: HeldImage): PreflightFacts {
  return { partitionErrno: null, segments: null, partitionSize: h.partitionSize, origin: h.origin, mpy: h.mpy };
}

/**
 * Refuse, before the first erase, an image that could be written but not proven or not written
 * whole: bytes past 16 MiB of a memoryview segment on a board without uctypes (the hash could not
 * reach them), or a padded tail that would run past the segment.
 */
function refuseUnwritable(length: number, facts: BoardFacts, segment: PartitionSpec, strategy: FlashStrategy, t: StrategyTarget, device: string): void {
  const size = facts.partitionSize ?? segment.size;
  if (facts.reachError) throw new FlashInputError(`device ${device}: the image cannot be verified on this board: ${facts.reachError}; nothing was written`);
  if (facts.access === 'memoryview' && !facts.bytearrayAt && length > 0x1000000) {
    throw new FlashInputError(`device ${device}: the image is ${length} bytes, but this board has no uctypes.bytearray_at to read past 16 MiB of the segment (memoryview offsets are 24-bit), so it could not be verified; nothing was written`);
  }
  if (strategy.kind === 'stream') {
    const unit = strategy.writeUnit(t);
    const padded = Math.ceil(length / unit) * unit;
    if (padded > size) {
      throw new FlashInputError(`device ${device}: the image is ${length} bytes; written in ${unit}-byte units it needs ${padded}, more than the ${size}-byte segment; nothing was written`);
    }
  }
}
