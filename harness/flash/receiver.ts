/**
 * The board-side program of one transfer attempt: the strategy's writer (`_hil_w`, `_hil_end`,
 * from harness/board/flash/*_writer.py + units.py) plus a sink for the binary channel that either
 * writes raw chunks at `base + offset` (sink_raw.py) or inflates zlib frames, one per block
 * (sink_deflate.py). `finish` writes the padded tail and prints a JSON line.
 */
import type { BinaryReceiver } from '../device/types.js';
import { maxFrame, type TransferPlan } from './planTransfer.js';
import { flashProgram } from './programs.js';

export function buildReceiver(writerCode: string, plan: TransferPlan, fromBlock: number): BinaryReceiver {
  const base = plan.blocks[fromBlock]?.offset ?? plan.imageLength;
  const sink = plan.compressed
    ? flashProgram('sink_deflate', { block: plan.blockSize, length: plan.imageLength, first: fromBlock, room: maxFrame(plan) + plan.chunkSize })
    : flashProgram('sink_raw', { base });
  return { setup: `${writerCode}\n${sink}`, sink: '_hil_sink', finish: flashProgram('finish') };
}
