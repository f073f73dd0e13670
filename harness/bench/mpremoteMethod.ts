/**
 * mpremote's `romfs deploy` method (tools/mpremote/mpremote/commands.py, `_do_romfs_deploy`),
 * re-implemented over hil's device layer for comparison in tests and benchmarks: query the
 * segment, refuse an image larger than it, unmount, prepare (per-block erase for a block device,
 * ranged erase per 32 KiB where rom_ioctl(6) gave a block size, else the whole-range erase),
 * then one exec per chunk (4096 bytes, or the block size / min write as mpremote picks, zero
 * padded, base64) writing with writeblocks or rom_ioctl(4), then rom_ioctl(5). Like mpremote it
 * looks at no return value, only at exceptions; unlike mpremote it then hashes the segment on the
 * board, which is how a test tells whether the method landed the image. The board programs are
 * harness/board/flash/mpremote_*.py. (mpremote also has a deflate path; the bytes it writes are
 * the same, so only the base64 one is re-implemented.)
 */
import { sha256Hex } from '../sha256.js';
import type { Device } from '../device/types.js';
import { execJson } from '../flash/boardJson.js';
import { hashBoardImage } from '../flash/hashBoardImage.js';
import { boardProgram } from '../board/program.js';

export interface MpremoteOutcome {
  /** The segment hashed to the image afterwards. */
  landed: boolean;
  /** mpremote itself stopped (too big, no partition, an exception on the board). */
  refused?: string;
  /** Execs sent (round trips). */
  roundTrips: number;
  elapsedMs: number;
}

export async function mpremoteDeploy(device: Device, image: Uint8Array, id = 0): Promise<MpremoteOutcome> {
  const t0 = performance.now();
  let roundTrips = 0;
  const q = await execJson<{ error?: string; object: boolean; size: number; blockSize: number }>(device, boardProgram('flash/mpremote_query', { id }), 'mpremote query');
  roundTrips++;
  if (q.error) return { landed: false, refused: q.error, roundTrips, elapsedMs: performance.now() - t0 };
  if (image.length > q.size) return { landed: false, refused: 'ROMFS image is too big for the target partition', roundTrips, elapsedMs: performance.now() - t0 };
  const p = await execJson<{ minWrite: number | null }>(device, boardProgram('flash/mpremote_prepare', { id, object: q.object, blockSize: q.blockSize, size: q.size, length: image.length }), 'mpremote prepare', 120_000);
  roundTrips++;
  const chunk = q.object ? Math.min(4096, q.blockSize) : Math.max(4096, p.minWrite ?? 0);
  try {
    for (let off = 0; off < image.length; off += chunk) {
      const piece = new Uint8Array(chunk);
      piece.set(image.subarray(off, Math.min(off + chunk, image.length)));
      await device.exec(boardProgram('flash/mpremote_write', { id, object: q.object, blockSize: q.blockSize, offset: off, b64: Buffer.from(piece).toString('base64') }), { timeoutMs: 30_000 });
      roundTrips++;
    }
    await device.exec(boardProgram('flash/mpremote_complete', { id, object: q.object }));
    roundTrips++;
  } catch (e) {
    return { landed: false, refused: (e as Error).message.split('\n').pop(), roundTrips, elapsedMs: performance.now() - t0 };
  }
  const elapsedMs = performance.now() - t0;
  const sha = await hashBoardImage(device, id, image.length);
  return { landed: sha === sha256Hex(image), roundTrips, elapsedMs };
}
