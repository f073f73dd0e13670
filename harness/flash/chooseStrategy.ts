/**
 * Pick how to write the image, from the profile's ordered `flash.strategies` and from what the
 * board itself answered in the probe. A strategy the board cannot carry out is skipped with a
 * reason; when none is left the result is a NoStrategyError (exit 5) listing every reason, never
 * a silent success. The choice and its reasons go into the result (`--json`).
 *   rom-ioctl   the segment is a memoryview and `rom_ioctl(3, id, 0)` answered a min write size
 *               (-22: the port cannot write it, e.g. MicroPython's qemu port)
 *   blockdev    `rom_ioctl(2, id)` gave a block device object (the RT1062's mimxrt.Flash)
 *   dfu         the profile names a DFU bootloader (OpenMV or Arduino, with an alt setting for the
 *               segment) and the board has machine.bootloader(); dfu-util must be installed
 *   ram         a RAM segment (profile) and uctypes.bytearray_at on the board
 *   qemu-loader a QEMU board that hil started and can restart with `-device loader`
 * Verification needs hashlib.sha256 on the board whatever the strategy.
 */
import type { BoardProfile, FlashStrategyName, PartitionSpec } from '../profile/profile.js';
import type { BoardFacts } from './probeBoard.js';
import { BoardRefusedError, FlashInputError, NoStrategyError } from './errors.js';
import { findDfuUtil, DfuUtilMissingError } from './dfu/dfuUtil.js';
import { dfuWhyNot } from './strategies/dfu.js';

export interface StrategyContext {
  profile: BoardProfile;
  facts: BoardFacts;
  partition: number;
  /** The profile's description of the segment. */
  segment?: PartitionSpec;
  /** The device can restart its QEMU with a new `-device loader` image. */
  qemuLoaderAvailable: boolean;
  /** Force one strategy (it must be listed in the profile). */
  requested?: FlashStrategyName;
  /** Whether dfu-util is on PATH (default: looked up). */
  dfuUtilAvailable?: boolean;
}

export interface StrategyChoice {
  name: FlashStrategyName;
  /** `auto` or `requested`. */
  how: 'auto' | 'requested';
  /** Why this strategy fits the board. */
  why: string;
  /** Strategies listed before it that were skipped, with the reason. */
  skipped: { name: FlashStrategyName; why: string }[];
}

const EINVAL = -22;

/** Why `name` cannot be used on this board, or undefined when it can. */
export function whyNot(name: FlashStrategyName, ctx: StrategyContext): string | undefined {
  const { facts, profile, partition } = ctx;
  const seg = ctx.segment ?? profile.segments[partition] ?? profile.partition;
  switch (name) {
    case 'rom-ioctl':
      if (!facts.romIoctl) return 'board has no vfs.rom_ioctl';
      if (facts.access === 'blockdev') return `rom_ioctl(2, ${partition}) is a block device object, not a memoryview`;
      if (facts.minWrite === null || facts.minWrite === undefined || facts.minWrite <= 0) {
        return `rom_ioctl(3, ${partition}, 0) = ${facts.minWrite}: the board cannot write this segment through rom_ioctl`;
      }
      return undefined;
    case 'blockdev':
      if (!facts.romIoctl) return 'board has no vfs.rom_ioctl';
      if (facts.access !== 'blockdev') return `rom_ioctl(2, ${partition}) is not a block device object (no ioctl/readblocks)`;
      return undefined;
    case 'dfu': {
      const why = dfuWhyNot(profile.dfu, partition, facts);
      if (why) return why;
      if (!(ctx.dfuUtilAvailable ?? findDfuUtil() !== undefined)) return 'dfu-util is not installed (Debian package dfu-util)';
      return undefined;
    }
    case 'ram':
      if (seg.medium !== 'ram') return `profile ${profile.name} says segment ${partition} is ${seg.medium}, not RAM`;
      if (!facts.bytearrayAt) return 'board has no uctypes.bytearray_at';
      if (partition !== 0 && facts.origin === null) return 'segment address unknown';
      return undefined;
    case 'qemu-loader':
      if (!profile.qemu) return `profile ${profile.name} is not a QEMU board`;
      if (partition !== 0) return 'the loader only places segment 0';
      if (!ctx.qemuLoaderAvailable) return 'the device is not a QEMU board started by hil (no loader restart hook)';
      return undefined;
  }
}

/** Why this strategy fits, for the result. */
function whyFits(name: FlashStrategyName, ctx: StrategyContext): string {
  const { facts, partition } = ctx;
  switch (name) {
    case 'rom-ioctl':
      return `rom_ioctl(3, ${partition}, 0) = ${facts.minWrite} (writable, erases nothing); rom_ioctl(6, ${partition}) = ${facts.eraseBlock} (${(facts.eraseBlock ?? 0) > 0 ? 'ranged erase available' : 'released API: whole-range erase only'})`;
    case 'blockdev':
      return `rom_ioctl(2, ${partition}) is a block device: ${facts.blockCount} blocks of ${facts.blockSize} bytes`;
    case 'dfu':
      return `profile ${ctx.profile.name} names the ${ctx.profile.dfu?.loader} DFU bootloader, alt ${ctx.profile.dfu?.alt?.[partition]} for segment ${partition}`;
    case 'ram':
      return `segment ${partition} is RAM; uctypes.bytearray_at available`;
    case 'qemu-loader':
      return 'QEMU board started by hil: restarted with the image in -device loader';
  }
}

/** A requested strategy the profile does not list is bad input (FlashInputError, exit 2), whatever the board. */
export function refuseUnlisted(profile: BoardProfile, requested: FlashStrategyName): void {
  const listed = profile.flash.strategies;
  if (!listed.includes(requested)) {
    throw new FlashInputError(`strategy ${requested} is not allowed by profile ${profile.name} (flash.strategies: ${listed.join(', ')})`);
  }
}

export function chooseStrategy(ctx: StrategyContext, device: string): StrategyChoice {
  const listed = ctx.profile.flash.strategies;
  if (!ctx.facts.sha256) {
    throw new NoStrategyError(`device ${device}: board has no hashlib.sha256, so a flash could not be verified; refusing to flash`);
  }
  if (ctx.requested) {
    refuseUnlisted(ctx.profile, ctx.requested);
    if (ctx.requested === 'dfu' && !dfuWhyNot(ctx.profile.dfu, ctx.partition, ctx.facts) && !(ctx.dfuUtilAvailable ?? findDfuUtil() !== undefined)) {
      throw new DfuUtilMissingError('dfu-util not found on PATH: the dfu strategy needs it (Debian package dfu-util: apt-get install dfu-util)');
    }
    const why = whyNot(ctx.requested, ctx);
    if (why) throw new NoStrategyError(`device ${device}: strategy ${ctx.requested} cannot be used: ${why}; nothing was written`);
    return { name: ctx.requested, how: 'requested', why: whyFits(ctx.requested, ctx), skipped: [] };
  }
  const skipped: { name: FlashStrategyName; why: string }[] = [];
  for (const name of listed) {
    // A negative answer other than -22 to the writability probe is the board refusing, not a
    // port without the command: say so instead of moving on to another way of writing.
    if (name === 'rom-ioctl' && ctx.facts.access === 'memoryview' && typeof ctx.facts.minWrite === 'number' && ctx.facts.minWrite < 0 && ctx.facts.minWrite !== EINVAL) {
      throw new BoardRefusedError(`device ${device}: board refused the writability probe: rom_ioctl(3, ${ctx.partition}, 0) = ${ctx.facts.minWrite}; nothing was written`, 'erase', ctx.facts.minWrite);
    }
    // dfu resets the board into its bootloader: chosen automatically only when nothing else fits.
    const why = whyNot(name, ctx);
    if (!why) return { name, how: 'auto', why: whyFits(name, ctx), skipped };
    skipped.push({ name, why });
  }
  throw new NoStrategyError(`device ${device}: no flash strategy applies (${skipped.map((s) => `${s.name}: ${s.why}`).join('; ')}); nothing was written`);
}
