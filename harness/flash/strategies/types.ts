/**
 * A strategy is a small object (esptool-js reset-strategy style) that knows how one kind of board
 * takes new segment bytes. Streaming strategies (rom-ioctl, blockdev, ram) provide a board-side
 * writer (harness/board/flash/*_writer.py: `_hil_w(offset, buf)`, `_hil_end()`); flashImage
 * streams the image through the binary channel into it. Whole-image strategies (qemu-loader,
 * dfu) replace the image at once, outside the REPL.
 */
import type { Device } from '../../device/types.js';
import type { FlashStrategyName, PartitionSpec } from '../../profile/profile.js';
import type { BoardFacts } from '../probeBoard.js';
import type { TransferPlan } from '../planTransfer.js';
import type { ProgressReporter } from '../progress.js';
import { flashProgram } from '../programs.js';

export interface StrategyTarget {
  device: Device;
  /** Segment number (`rom_ioctl` id). */
  partition: number;
  /** The profile's description of that segment (medium, word size). */
  segment: PartitionSpec;
  facts: BoardFacts;
  /** Image length in bytes. */
  length: number;
  progress: ProgressReporter;
}

/** What a block of the image region holds on the board, as its digest shows. */
export type BlockState = 'image' | 'erased' | 'dirty';

export interface ResumeView {
  plan: TransferPlan;
  /** First block the board does not hold (blocks before it hash to the image). */
  missing: number;
  /** States of blocks `missing .. to-1`; blocks from `to` on were never touched since the last erase. */
  states: BlockState[];
  to: number;
}

export interface ResumeDecision {
  /** Block to resume from. */
  block: number;
  /** What was done, for the progress note and the result. */
  note: string;
}

export interface StreamingStrategy {
  kind: 'stream';
  name: FlashStrategyName;
  /** Bytes per write (offsets and lengths are multiples; the tail is padded with 0xFF). */
  writeUnit(t: StrategyTarget): number;
  /** Make the segment ready for the image (umount, erase). Nothing may be erased before this. */
  prepare(t: StrategyTarget, unit: number): Promise<void>;
  /** Python defining `_hil_err`, `_hil_w(off, buf)` and `_hil_end()` (raises on refusal). */
  writerCode(t: StrategyTarget, unit: number): string;
  /** After a link fault: make the board ready to continue and say where from. Never erases image bytes it keeps. */
  resume(t: StrategyTarget, v: ResumeView): Promise<ResumeDecision>;
  /** After the last byte (rom_ioctl(5), a sync). */
  complete(t: StrategyTarget): Promise<void>;
}

export interface WholeImageStrategy {
  kind: 'whole';
  name: FlashStrategyName;
  /** Write the image; returns notes for the result (what was done and checked). */
  write(t: StrategyTarget, image: Uint8Array): Promise<{ notes: string[] }>;
}

export type FlashStrategy = StreamingStrategy | WholeImageStrategy;

/** Board program: unmount /rom (segment 0) so nothing reads the segment while it changes. */
export function umountRomCode(partition: number): string {
  return flashProgram('umount', { id: partition });
}

/** Every block after the missing one is still erased: continue there without erasing. */
export function resumesWithoutErase(v: ResumeView): boolean {
  return v.states.every((s) => s === 'erased');
}
