/**
 * Ask the board what flashing needs to know, with reads only (board program flash/probe.py):
 * the segment and what `rom_ioctl(2, id)` gives (memoryview, or a block device on the RT1062),
 * its size and address, whether rom_ioctl can write it (`rom_ioctl(3, id, 0)`, which erases
 * nothing and answers the min write size or -22), `rom_ioctl(6, id)` (the erase block on
 * MicroPython master, -22 on every release: the proof the ranged erase exists), the .mpy it loads,
 * deflate, uctypes, hashlib, its free heap, and what DFU needs (machine.unique_id, bootloader).
 */
import type { Device } from '../device/types.js';
import { compactBoardProgram } from '../board/program.js';
import { execJson } from './boardJson.js';
import { flashProgram } from './programs.js';
import { hashBoardImage } from './hashBoardImage.js';

export interface BoardFacts {
  /** `vfs.rom_ioctl` exists. */
  romIoctl: boolean;
  /** `rom_ioctl(1)`: number of ROMFS segments (null without rom_ioctl). */
  segments: number | null;
  /** Size in bytes of the segment (memoryview length, or blocks x block size), null when unavailable. */
  partitionSize: number | null;
  /** Negative errno `rom_ioctl(2, id)` returned, when it did. */
  partitionErrno: number | null;
  /** What `rom_ioctl(2, id)` returned: a memoryview or a block device object (null: nothing). */
  access: 'memoryview' | 'blockdev' | null;
  /** Block device: `ioctl(5, 0)` block size and `ioctl(4, 0)` block count. */
  blockSize: number | null;
  blockCount: number | null;
  /** Address of the segment's first byte (`uctypes.addressof`), null when unknown. */
  origin: number | null;
  /** `rom_ioctl(3, id, 0)`: the min write size (writable) or a negative errno (-22: cannot write). */
  minWrite: number | null;
  /** `rom_ioctl(6, id)`: positive erase block size on the newer API (ranged erase too), else negative. */
  eraseBlock: number | null;
  /** `sys.implementation._mpy`, null when the firmware does not report it. */
  mpy: number | null;
  /** `sys.implementation._machine`. */
  machine?: string | null;
  deflate: boolean;
  /** `uctypes.bytearray_at` and `uctypes.addressof` (reach past 16 MiB, RAM writes). */
  bytearrayAt: boolean;
  sha256: boolean;
  /** `gc.mem_free()` after a collection. */
  memFree: number | null;
  platform: string;
  /**
   * sha256 (hex) of the segment's first `hashLength` bytes when asked for (skip-if-same in the
   * same round trip), null when not asked, the segment is smaller, or it cannot be reached.
   */
  currentSha256: string | null;
  /** Why the first `reachLength` bytes cannot be read (offsets past 16 MiB without uctypes). */
  reachError?: string | null;
  /** `machine.unique_id()` as hex, null without it. */
  uniqueId?: string | null;
  /** `machine.bootloader` exists (DFU). */
  bootloader?: boolean;
}

function readTimeout(length: number): number {
  return 20_000 + Math.ceil(length / 50_000) * 1000;
}

/**
 * Probe the board (reads only); with `reachLength`, also say whether that many bytes of the
 * segment can be read back (`reachError`), with `hashLength` also hash them (`currentSha256`,
 * asked in a second round trip only then: the probe itself stays small).
 */
export async function probeBoard(device: Device, partition: number, hashLength = 0, reachLength = hashLength): Promise<BoardFacts> {
  // The board answers only what it found (flash/probe.py): everything else is absent or false.
  const found = await execJson<Partial<BoardFacts>>(device, flashProgram('probe', { id: partition, reach: Math.max(reachLength, hashLength) }), 'probe', readTimeout(0), true);
  const facts: BoardFacts = { ...PROBE_DEFAULTS, platform: '', ...found };
  if (hashLength > 0 && facts.sha256 && facts.partitionSize !== null && facts.partitionSize >= hashLength && !facts.reachError) {
    // The skip decision's fallback (the small skip probe could not hash): a round trip of its own.
    facts.currentSha256 = await hashBoardImage(device, partition, hashLength);
  }
  return facts;
}

/** What the probe reports for a fact it did not find. */
const PROBE_DEFAULTS: Omit<BoardFacts, 'platform'> = {
  romIoctl: false, segments: null, partitionSize: null, partitionErrno: null, access: null, blockSize: null, blockCount: null,
  origin: null, minWrite: null, eraseBlock: null, mpy: null, machine: null, deflate: false, bytearrayAt: false, sha256: false,
  memFree: null, currentSha256: null, reachError: null, uniqueId: null, bootloader: false,
};

/** What a segment holds now, as far as deciding that it already holds an image needs. */
export interface HeldImage {
  /** sha256 (hex) of the segment's first `length` bytes; null when the board could not say (the full probe says why). */
  sha256: string | null;
  /** The segment's size in bytes as the board reports it. */
  partitionSize: number | null;
  /** Address of its first byte (`uctypes.addressof`), null when unknown. */
  origin: number | null;
  /** `sys.implementation._mpy`, null when the firmware does not report it. */
  mpy: number | null;
}

/**
 * Skip-if-same in one small round trip (board program flash/skip_probe.py, reads only): the
 * sha256 of the segment's first `length` bytes and the facts the checks made before a skip need
 * (size, address, .mpy), none of what writing needs (that is probeBoard's, asked only when the
 * image differs).
 */
export async function probeHeldImage(device: Device, partition: number, length: number): Promise<HeldImage> {
  const r = await execJson<{ sha256: string | null; size: number | null; origin: number | null; mpy: number | null }>(
    device, compactBoardProgram('flash/skip_probe', { id: partition, length }), 'skip-check', readTimeout(length), true,
  );
  return { sha256: r.sha256, partitionSize: r.size, origin: r.origin, mpy: r.mpy };
}

/** The range erase `(3, id, offset, length)` exists: the board answered rom_ioctl(6) with a block size. */
export function hasRangedErase(facts: Pick<BoardFacts, 'eraseBlock'>): boolean {
  return typeof facts.eraseBlock === 'number' && facts.eraseBlock > 0;
}
