/**
 * blockdev: segments that `rom_ioctl(2, id)` gives as a block device object (the RT1062's
 * mimxrt.Flash: ports/mimxrt/mimxrt_flash.c), driven the way mpremote's `romfs deploy` drives it
 * (tools/mpremote/mpremote/commands.py): erase each block with `dev.ioctl(6, blk)` (0, or 1 when
 * the flash refused), write with `dev.writeblocks(blk, buf, off)` (no erase with an offset; raises
 * OSError on failure), verify by hashing through `dev.readblocks`. Unlike mpremote, every answer
 * is checked and the board's sha256 decides. Resume erases only blocks found partly written.
 */
import { execJson } from '../boardJson.js';
import { BoardRefusedError } from '../errors.js';
import { flashProgram, writerProgram } from '../programs.js';
import type { StreamingStrategy, StrategyTarget } from './types.js';
import { resumesWithoutErase } from './types.js';

/** Blocks erased per board program: a deadline per batch instead of one long wait. */
const ERASE_BATCH = 256;

function blockSize(t: StrategyTarget): number {
  return t.facts.blockSize ?? t.segment.eraseBlock ?? 4096;
}

async function eraseBlocks(t: StrategyTarget, from: number, to: number): Promise<void> {
  for (let b = from; b < to; b += ERASE_BATCH) {
    const end = Math.min(to, b + ERASE_BATCH);
    // A 4 KiB NOR sector erases in at most about 400 ms (datasheet worst case).
    const r = await execJson<{ erased: number; failed: [number, unknown] | null }>(
      t.device, flashProgram('blockdev_erase', { id: t.partition, from: b, to: end }), 'erase', 15_000 + (end - b) * 400,
    );
    if (r.failed) {
      throw new BoardRefusedError(
        `device ${t.device.name}: board refused erase: dev.ioctl(6, ${r.failed[0]}) = ${JSON.stringify(r.failed[1])} (segment ${t.partition} is a block device); the segment does not hold the image`,
        'erase',
      );
    }
  }
}

export const blockdevStrategy: StreamingStrategy = {
  kind: 'stream',
  name: 'blockdev',
  writeUnit(t) {
    return Math.max(1, t.segment.writeUnit ?? t.segment.minWrite ?? 1);
  },
  async prepare(t, unit) {
    const bs = blockSize(t);
    await eraseBlocks(t, 0, Math.ceil(Math.ceil(t.length / unit) * unit / bs));
  },
  writerCode(t, unit) {
    return writerProgram('blockdev_writer', { id: t.partition, unit, blockSize: blockSize(t) });
  },
  async resume(t, v) {
    const at = v.plan.blocks[v.missing]?.offset ?? v.plan.imageLength;
    if (resumesWithoutErase(v)) {
      return { block: v.missing, note: `blocks from ${v.missing} are still erased: writing on from offset ${at} without erasing` };
    }
    // Erase only the device blocks that hold partly written bytes (and what follows in the window).
    const bs = blockSize(t);
    const dirty = v.missing + v.states.findIndex((s) => s !== 'erased');
    const from = Math.floor(v.plan.blocks[dirty]!.offset / bs) * bs;
    const last = v.plan.blocks[v.to - 1]!;
    const resumeBlock = Math.floor(from / v.plan.blockSize);
    const start = resumeBlock * v.plan.blockSize;
    await eraseBlocks(t, Math.floor(start / bs), Math.ceil((last.offset + last.length) / bs));
    return { block: resumeBlock, note: `block ${dirty} was partly written: erased device blocks from ${Math.floor(start / bs)} (dev.ioctl(6)) and rewriting from offset ${start}` };
  },
  async complete() {
    // writeblocks has no "complete" step; the board's sha256 decides.
  },
};
