/**
 * The board programs of `hil flash` (harness/board/flash/*.py), loaded with their JSON parameters.
 * A few programs need a library file with them: `segment.py` (reach a segment at any offset,
 * memoryview or block device) before the hashes, `rom_list.py` (what /rom lists)
 * before the listing and the proof after a reset, `units.py` (whole write units,
 * 0xFF-padded tail) after a writer. Each file compiles on its own (board.test.ts).
 */
import { boardSource, compactBoardProgram, type BoardParams } from '../board/program.js';
import { compactPython } from '../board/compact.js';

export type FlashProgram =
  | 'probe' | 'hash' | 'block_digests' | 'umount' | 'rom_erase' | 'rom_complete' | 'blockdev_erase'
  | 'refusal' | 'finish' | 'list_rom' | 'verify' | 'unique_id' | 'bootloader'
  | 'sink_raw' | 'sink_deflate';

export type FlashWriter = 'rom_writer' | 'blockdev_writer' | 'ram_writer';

/** The libraries a program needs before it, in order. */
const NEEDS: Partial<Record<FlashProgram, string[]>> = {
  hash: ['segment'],
  block_digests: ['segment'],
  list_rom: ['rom_list'],
  verify: ['segment', 'rom_list'],
};

/** A flash board program ready to send (`_P` bound to `params`), compacted (harness/board/compact.ts). */
export function flashProgram(name: FlashProgram, params: BoardParams = {}): string {
  const libs = (NEEDS[name] ?? []).map((l) => compactPython(boardSource(`flash/${l}`))).join('');
  return `${libs}${compactBoardProgram(`flash/${name}`, params)}`;
}

/**
 * A writer (defines `_hil_err`, `_hil_w(offset, buf)` and `_hil_end()`): units.py after it, except
 * for RAM (any length at any offset: ram_writer.py defines them itself, 0.7 KB less to send).
 */
export function writerProgram(name: FlashWriter, params: BoardParams): string {
  if (name === 'ram_writer') return compactBoardProgram(`flash/${name}`, params);
  return compactBoardProgram(`flash/${name}`, params) + compactPython(boardSource('flash/units'));
}
