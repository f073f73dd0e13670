/**
 * The board programs of `hil flash` (harness/board/flash/*.py), loaded with their JSON parameters.
 * A few programs need a library file with them: `segment.py` (reach a segment at any offset,
 * memoryview or block device) before the probe and the hashes, `units.py` (whole write units,
 * 0xFF-padded tail) after a writer. Each file compiles on its own (board.test.ts).
 */
import { boardProgram, boardSource, type BoardParams } from '../board/program.js';
import { compactPython } from '../board/compact.js';

export type FlashProgram =
  | 'probe' | 'hash' | 'block_digests' | 'umount' | 'rom_erase' | 'rom_complete' | 'blockdev_erase'
  | 'refusal' | 'finish' | 'list_rom' | 'unique_id' | 'bootloader'
  | 'sink_raw' | 'sink_deflate';

export type FlashWriter = 'rom_writer' | 'blockdev_writer' | 'ram_writer';

const NEEDS_SEGMENT = new Set<FlashProgram>(['probe', 'hash', 'block_digests']);

/**
 * The program as sent: the same tokens in fewer bytes (harness/board/compact.ts; the raw REPL
 * reads every byte, and each 128 of them cost a round trip).
 */
export function shipped(source: string): string {
  return compactPython(source);
}

/** A flash board program ready to send (`_P` bound to `params`). */
export function flashProgram(name: FlashProgram, params: BoardParams = {}): string {
  const main = shipped(boardProgram(`flash/${name}`, params));
  return NEEDS_SEGMENT.has(name) ? `${shipped(boardSource('flash/segment'))}${main}` : main;
}

/** A writer (defines `_hil_err`, `_hil_w(offset, buf)` and `_hil_end()`). */
export function writerProgram(name: FlashWriter, params: BoardParams): string {
  return shipped(`${boardProgram(`flash/${name}`, params)}\n${boardSource('flash/units')}`);
}
