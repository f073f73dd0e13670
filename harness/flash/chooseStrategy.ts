/**
 * Pick how to write the image, from the profile's ordered `flash.strategies` and from what the
 * board itself reports. A strategy the board cannot carry out is skipped with a reason; when none
 * is left the result is a NoStrategyError (exit 5) listing every reason, never a silent success.
 *   rom-ioctl   needs vfs.rom_ioctl and a positive erase block from rom_ioctl(6, id)
 *               (MicroPython's qemu port answers -22: it cannot erase or write)
 *   ram         needs a RAM partition (profile) and uctypes.bytearray_at on the board
 *   qemu-loader needs a QEMU board that hil started and can restart with `-device loader`
 * Verification needs hashlib.sha256 on the board whatever the strategy.
 */
import type { BoardProfile, FlashStrategyName } from '../profile/profile.js';
import type { BoardFacts } from './probeBoard.js';
import { FlashInputError, NoStrategyError } from './errors.js';

export interface StrategyContext {
  profile: BoardProfile;
  facts: BoardFacts;
  partition: number;
  /** The device can restart its QEMU with a new `-device loader` image. */
  qemuLoaderAvailable: boolean;
  /** Force one strategy (it must be listed in the profile). */
  requested?: FlashStrategyName;
}

/** Why `name` cannot be used on this board, or undefined when it can. */
export function whyNot(name: FlashStrategyName, ctx: StrategyContext): string | undefined {
  const { facts, profile, partition } = ctx;
  switch (name) {
    case 'rom-ioctl':
      if (!facts.romIoctl) return 'board has no vfs.rom_ioctl';
      if (facts.eraseBlock === null || facts.eraseBlock <= 0) {
        return `rom_ioctl(6, ${partition}) = ${facts.eraseBlock}: board cannot erase/write this partition`;
      }
      return undefined;
    case 'ram':
      if (profile.partition.medium !== 'ram') return `profile ${profile.name} says the partition is ${profile.partition.medium}, not RAM`;
      if (!facts.bytearrayAt) return 'board has no uctypes.bytearray_at';
      if (partition !== 0 && facts.origin === null) return 'partition address unknown';
      return undefined;
    case 'blockdev':
    case 'dfu':
      return 'not implemented in this build of hil';
    case 'qemu-loader':
      if (!profile.qemu) return `profile ${profile.name} is not a QEMU board`;
      if (partition !== 0) return 'the loader only places partition 0';
      if (!ctx.qemuLoaderAvailable) return 'the device is not a QEMU board started by hil (no loader restart hook)';
      return undefined;
  }
}

export function chooseStrategy(ctx: StrategyContext, device: string): FlashStrategyName {
  const listed = ctx.profile.flash.strategies;
  if (!ctx.facts.sha256) {
    throw new NoStrategyError(`device ${device}: board has no hashlib.sha256, so a flash could not be verified; refusing to flash`);
  }
  if (ctx.requested) {
    if (!listed.includes(ctx.requested)) {
      throw new FlashInputError(`strategy ${ctx.requested} is not allowed by profile ${ctx.profile.name} (flash.strategies: ${listed.join(', ')})`);
    }
    const why = whyNot(ctx.requested, ctx);
    if (why) throw new NoStrategyError(`device ${device}: strategy ${ctx.requested} cannot be used: ${why}`);
    return ctx.requested;
  }
  const reasons: string[] = [];
  for (const name of listed) {
    const why = whyNot(name, ctx);
    if (!why) return name;
    reasons.push(`${name}: ${why}`);
  }
  throw new NoStrategyError(`device ${device}: no flash strategy applies (${reasons.join('; ')}); nothing was written`);
}
