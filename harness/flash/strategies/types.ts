/**
 * A strategy is a small object (esptool-js reset-strategy style) that knows how one kind of board
 * takes new partition bytes. Streaming strategies (rom-ioctl, ram) provide board-side Python that
 * defines `_hil_w(offset, buf)` and `_hil_end()`; flashImage streams the image through the
 * binary channel into them. The qemu-loader strategy replaces the whole image at once.
 */
import type { Device } from '../../device/types.js';
import type { FlashStrategyName } from '../../profile/profile.js';
import type { BoardFacts } from '../probeBoard.js';

export interface StrategyTarget {
  device: Device;
  partition: number;
  facts: BoardFacts;
  /** Image length in bytes. */
  length: number;
}

export interface StreamingStrategy {
  kind: 'stream';
  name: FlashStrategyName;
  /** Make the partition ready (umount, erase). Returns the minimum write size. */
  prepare(t: StrategyTarget): Promise<{ minWrite: number }>;
  /** Python defining `_hil_err = None`, `_hil_w(off, buf)` and `_hil_end()` (raises on refusal). */
  writerCode(t: StrategyTarget, minWrite: number): string;
  /**
   * After a link fault the board holds the image up to `offset`; `dirtyFrom` is the first offset
   * whose bytes are neither the image's nor erased. Returns the offset to resume from (a block
   * boundary at or below `offset`).
   */
  beforeResume(t: StrategyTarget, offset: number, dirtyFrom: number | null, blockSize: number): Promise<number>;
  /** After the last byte: finalise (rom_ioctl(5)). */
  complete(t: StrategyTarget): Promise<void>;
}

export interface WholeImageStrategy {
  kind: 'whole';
  name: FlashStrategyName;
  write(t: StrategyTarget, image: Uint8Array): Promise<void>;
}

export type FlashStrategy = StreamingStrategy | WholeImageStrategy;

/** Python: unmount /rom (partition 0) so nothing reads the partition while it changes. */
export function umountRomCode(partition: number): string {
  if (partition !== 0) return '';
  return `
try:
    import vfs
    vfs.umount('/rom')
except Exception:
    pass
`;
}
