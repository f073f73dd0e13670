/**
 * rom-ioctl: erase / write / complete through `vfs.rom_ioctl`, on the API every released
 * firmware has (../shared/docs/firmware.md):
 * - writable when `rom_ioctl(3, id, 0)` (probe; erases nothing) answers a min write size;
 * - one whole-range erase `(3, id, length)` from the segment's start. The ranged erase
 *   `(3, id, offset, length)` is sent only to a board whose `rom_ioctl(6, id)` answered a block
 *   size (MicroPython master): a released firmware ignores the 4th argument and erases [0, offset);
 * - writes in units of max(min write answered, the medium's word: the profile's `writeUnit`; the
 *   H7 reports 16 but programs 32-byte words at 32-byte offsets), 0xFF-padded at the tail;
 * - `rom_ioctl(5)` answering -22 is "not implemented" (no port implements it); success is decided
 *   only by the board's sha256 of the segment afterwards.
 * A negative errno from erase or write is a BoardRefusedError (exit 5), never retried.
 */
import { execJson } from '../boardJson.js';
import { BoardRefusedError } from '../errors.js';
import { hasRangedErase } from '../probeBoard.js';
import { flashProgram, writerProgram } from '../programs.js';
import type { StreamingStrategy, StrategyTarget } from './types.js';
import { resumesWithoutErase } from './types.js';

export const EINVAL = -22;

function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

/**
 * How long an erase may take: NOR flash erases a 64 KiB block in up to about 2 s (datasheet worst
 * cases), so the deadline grows with the length instead of one fixed long wait that would also
 * be the time to notice an answer lost on the link.
 */
export function eraseDeadlineMs(length: number): number {
  return 15_000 + Math.ceil(length / 65536) * 2000;
}

/** Bytes per write: max(the board's min write, the medium's word), at least 1. */
export function romWriteUnit(minWrite: number | null, writeUnit: number | undefined): number {
  return Math.max(1, minWrite ?? 1, writeUnit ?? 1);
}

/** Erase length covering `length` image bytes written in `unit`s, never past the segment. */
export function eraseLength(length: number, unit: number, partitionSize: number | null): number {
  const n = roundUp(Math.max(1, length), Math.max(1, unit));
  return partitionSize ? Math.min(n, partitionSize) : n;
}

async function erase(t: StrategyTarget, args: number[]): Promise<number> {
  const call = `rom_ioctl(3, ${args.join(', ')})`;
  const r = await execJson<{ r: unknown }>(t.device, flashProgram('rom_erase', { id: t.partition, args }), 'erase', eraseDeadlineMs(args[args.length - 1]!));
  if (typeof r.r !== 'number' || r.r < 0) {
    throw new BoardRefusedError(
      `device ${t.device.name}: board refused erase: ${call} = ${JSON.stringify(r.r)}; the segment does not hold the image`,
      'erase',
      typeof r.r === 'number' ? r.r : undefined,
    );
  }
  return r.r;
}

/** Whole-range erase from the segment's start (the only erase a released firmware has). */
async function eraseFromStart(t: StrategyTarget, unit: number): Promise<void> {
  await erase(t, [t.partition, eraseLength(t.length, unit, t.facts.partitionSize)]);
}

export const romIoctlStrategy: StreamingStrategy = {
  kind: 'stream',
  name: 'rom-ioctl',
  writeUnit(t) {
    return romWriteUnit(t.facts.minWrite, t.segment.writeUnit ?? t.segment.minWrite);
  },
  async prepare(t, unit) {
    await eraseFromStart(t, unit);
  },
  writerCode(t, unit) {
    return writerProgram('rom_writer', { id: t.partition, unit });
  },
  async resume(t, v) {
    const at = v.plan.blocks[v.missing]?.offset ?? v.plan.imageLength;
    if (resumesWithoutErase(v)) {
      return { block: v.missing, note: `blocks from ${v.missing} are still erased: writing on from offset ${at} without erasing` };
    }
    if (t.segment.device === 'mram') {
      // MRAM has no erased state: a write overwrites whatever is there (ports/alif: mram_write_128bit).
      return { block: v.missing, note: `MRAM segment (written over without erase): writing on from offset ${at}` };
    }
    const dirty = v.missing + v.states.findIndex((s) => s !== 'erased');
    const dirtyAt = v.plan.blocks[dirty]!.offset;
    const eb = t.facts.eraseBlock ?? 0;
    if (hasRangedErase(t.facts)) {
      // MicroPython master: erase only from the erase block holding the partly written block.
      const from = Math.floor(dirtyAt / eb) * eb;
      if (from % v.plan.blockSize === 0) {
        const end = eraseLength(v.plan.blocks[v.to - 1]!.offset + v.plan.blocks[v.to - 1]!.length, 1, null);
        const len = roundUp(end - from, eb);
        await erase(t, [t.partition, from, Math.min(len, (t.facts.partitionSize ?? from + len) - from)]);
        return { block: from / v.plan.blockSize, note: `block ${dirty} was partly written: erased [${from}, ${from + len}) with the ranged erase (rom_ioctl(6) = ${eb}) and rewriting from there` };
      }
    }
    // A released firmware can only erase from the segment's start: start again from 0.
    await eraseFromStart(t, this.writeUnit(t));
    return { block: 0, note: `block ${dirty} was partly written and this firmware has only the whole-range erase: erased again from 0 and restarting from offset 0` };
  },
  async complete(t) {
    const r = await execJson<{ r: unknown }>(t.device, flashProgram('rom_complete', { id: t.partition }), 'write-complete');
    if (r.r === EINVAL) {
      t.progress.note(`rom_ioctl(5, ${t.partition}) = -22: "write complete" is not implemented on this port (as on every port); the board's sha256 decides`);
      return;
    }
    if (typeof r.r !== 'number' || r.r < 0) {
      throw new BoardRefusedError(`device ${t.device.name}: board refused write-complete: rom_ioctl(5, ${t.partition}) = ${JSON.stringify(r.r)}`, 'complete', typeof r.r === 'number' ? r.r : undefined);
    }
  },
};
