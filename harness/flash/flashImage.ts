/**
 * `hil flash` as a library call: prepare (build/parse) the image, probe the board (reads only),
 * refuse bad input before writing anything, pick a strategy, skip when the board already holds
 * the image, write (streamed with resume, or through the QEMU loader), then prove it: board-side
 * sha256 of the partition's image bytes, soft reset, /rom lists what the image holds.
 * Only then does it return a result.
 */
import type { Device } from '../device/types.js';
import type { FlashStrategyName } from '../profile/profile.js';
import { NoStrategyError } from './errors.js';
import { chooseStrategy } from './chooseStrategy.js';
import { hashBoardImage } from './hashBoardImage.js';
import { cachedPlan, type TransferPlan } from './planTransfer.js';
import { preflight } from './preflight.js';
import { prepareImage, type ImageInput, type PreparedImage } from './prepareImage.js';
import { probeBoard, type BoardFacts } from './probeBoard.js';
import { createProgress, silentProgress, type ProgressReporter } from './progress.js';
import { sendImage } from './sendImage.js';
import { qemuLoaderHook, qemuLoaderStrategy } from './strategies/qemuLoader.js';
import { ramStrategy } from './strategies/ram.js';
import { romIoctlStrategy } from './strategies/romIoctl.js';
import type { FlashStrategy, StrategyTarget } from './strategies/types.js';
import { checkRomAfterReset, verifyBoardImage } from './verifyFlash.js';
import { retryLinkFault } from './retryLinkFault.js';

export interface FlashOptions {
  /** Image bytes, or a path to an image file or a source directory (built with the device's profile). */
  image?: Uint8Array;
  imagePath?: string;
  sourceDir?: string;
  /** Name used in messages for `image` bytes. */
  imageName?: string;
  /** ROMFS partition (segment) id, default 0. */
  partition?: number;
  /** Write even when the board already holds the image. */
  force?: boolean;
  /** Flash images whose models are not aligned for the profile (reported as a warning). */
  allowMisaligned?: boolean;
  /** Use this strategy (it must be in the profile's list and the board must support it). */
  strategy?: FlashStrategyName;
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
  strategy: FlashStrategyName;
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
  /** /rom was checked after a soft reset. */
  mountChecked: boolean;
  warnings: string[];
}

const STRATEGIES: Partial<Record<FlashStrategyName, FlashStrategy>> = {
  'rom-ioctl': romIoctlStrategy,
  ram: ramStrategy,
  'qemu-loader': qemuLoaderStrategy,
};

function imageInput(opts: FlashOptions): ImageInput {
  if (opts.image) return { image: opts.image, name: opts.imageName };
  if (opts.sourceDir) return { sourceDir: opts.sourceDir };
  if (opts.imagePath) return { imagePath: opts.imagePath };
  throw new TypeError('flashImage: give image, imagePath or sourceDir');
}

export async function flashImage(device: Device, opts: FlashOptions): Promise<FlashResult> {
  const started = performance.now();
  const partition = opts.partition ?? 0;
  const progress: ProgressReporter =
    opts.onProgress === true || opts.onProgress === undefined ? createProgress({ label: `flash ${device.name}` })
    : opts.onProgress === false ? silentProgress
    : opts.onProgress;
  const profile = device.profile;

  const img: PreparedImage = await prepareImage(imageInput(opts), profile);
  const facts: BoardFacts = await retryLinkFault('probe', () => probeBoard(device, partition, opts.force ? 0 : img.length), progress);
  const checked = preflight(img, facts, profile, device.name, { partition, allowMisaligned: opts.allowMisaligned });
  for (const w of checked.warnings) progress.note(`warning: ${w}`);
  const strategyName = chooseStrategy(
    { profile, facts, partition, qemuLoaderAvailable: qemuLoaderHook(device) !== undefined, requested: opts.strategy },
    device.name,
  );
  const strategy = STRATEGIES[strategyName];
  if (!strategy) throw new NoStrategyError(`device ${device.name}: strategy ${strategyName} is not implemented in this build of hil; nothing was written`);
  const target: StrategyTarget = { device, partition, facts, length: img.length };

  const result = (over: Partial<FlashResult> & Pick<FlashResult, 'skipped' | 'verifiedSha256'>): FlashResult => {
    const elapsedMs = performance.now() - started;
    return {
      device: device.name,
      image: img.name,
      strategy: strategyName,
      partition,
      imageBytes: img.length,
      bytesSent: 0,
      compressed: false,
      elapsedMs,
      rate: elapsedMs > 0 ? (img.length * 1000) / elapsedMs : 0,
      resumedFrom: [],
      mountChecked: false,
      warnings: checked.warnings,
      ...over,
    };
  };

  if (!opts.force) {
    // Skip-if-same: the probe hashed the partition's first img.length bytes in the same round trip.
    const current = facts.currentSha256 ?? (await retryLinkFault('hash', () => hashBoardImage(device, partition, img.length), progress));
    if (current === img.sha256) {
      progress.note(`board already holds this image (sha256 ${current.slice(0, 16)}…): nothing written`);
      return result({ skipped: true, verifiedSha256: current });
    }
  }

  let bytesSent = 0;
  let compressed = false;
  let resumedFrom: number[] = [];
  if (strategy.kind === 'stream') {
    // Erasing the same range again is harmless, so a lost answer is asked for by erasing again.
    const { minWrite } = await retryLinkFault('erase', () => strategy.prepare(target), progress);
    const plan = cachedPlan(opts.planCache, img.bytes, img.sha256, facts, { minWrite, compress: opts.compress, chunkSize: opts.chunkSize });
    compressed = plan.compressed;
    let sent;
    try {
      sent = await sendImage(target, strategy, img.bytes, plan, minWrite, { progress, retries: opts.retries });
    } finally {
      progress.finish();
    }
    await retryLinkFault('write-complete', () => strategy.complete(target), progress);
    bytesSent = sent.bytesSent;
    resumedFrom = sent.resumedFrom;
  } else {
    progress.note(`restarting QEMU with the image in the loader`);
    await strategy.write(target, img.bytes);
    bytesSent = img.length;
  }

  const verifiedSha256 = await retryLinkFault('verification', () => verifyBoardImage(device, partition, img.bytes, img.sha256), progress);
  const mountChecked = partition === 0 && !opts.skipMountCheck;
  if (mountChecked) await retryLinkFault('mount check', () => checkRomAfterReset(device, img.entries), progress);
  return result({ skipped: false, verifiedSha256, bytesSent, compressed, resumedFrom, mountChecked });
}
