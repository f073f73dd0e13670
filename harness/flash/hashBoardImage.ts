/**
 * Hashes computed on the board over the segment's bytes (board programs flash/hash.py and
 * flash/block_digests.py, which read memoryview segments without copying and reach any offset,
 * and block-device segments through readblocks): the sha256 of the first `length` bytes
 * (skip-if-same and proof), and short per-block digests (resume after a link fault).
 */
import type { Device } from '../device/types.js';
import { InfraError } from '../errors.js';
import { execJson } from './boardJson.js';
import { flashProgram } from './programs.js';

/** How long the board may take to hash `length` bytes of a segment (ms). */
export function hashTimeoutMs(length: number): number {
  return 20_000 + Math.ceil(length / 50_000) * 1000;
}

/** The sha256 a board program answered, or the InfraError saying why the board could not hash. */
export function answeredSha256(device: Device, partition: number, r: { sha256?: string; error?: string }): string {
  if (!r.sha256) throw new InfraError(`${device.name}: cannot hash partition ${partition}: ${r.error ?? 'no answer'}`, 'hash');
  return r.sha256;
}

/** sha256 (hex) of the segment's first `length` bytes, computed on the board. */
export async function hashBoardImage(device: Device, partition: number, length: number, step = 16 * 1024): Promise<string> {
  const r = await execJson<{ sha256?: string; error?: string }>(
    device, flashProgram('hash', { id: partition, length, step }), 'hash', hashTimeoutMs(length), true,
  );
  return answeredSha256(device, partition, r);
}

/** First 8 bytes (hex) of sha256 of blocks `from..to-1` of the image region on the board. */
export async function boardBlockDigests(device: Device, partition: number, length: number, blockSize: number, from: number, to: number): Promise<string[]> {
  if (to <= from) return [];
  const r = await execJson<{ digests?: string[]; error?: string }>(
    device, flashProgram('block_digests', { id: partition, length, block: blockSize, from, to }), 'resume-check',
    hashTimeoutMs(Math.min(length, (to - from) * blockSize)), true,
  );
  if (!r.digests) throw new InfraError(`${device.name}: cannot hash partition ${partition}: ${r.error ?? 'no answer'}`, 'resume-check');
  return r.digests;
}
