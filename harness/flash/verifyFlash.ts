/**
 * Proof that the image landed: the board hashes the partition's image bytes (compared with the
 * host's sha256), and, after a soft reset, `/rom` must mount and list exactly the image's
 * directories and files with their sizes. Any difference is a FlashVerifyError (exit 4). With
 * the mount check both are asked in one round trip after the reset (proveAfterReset): the
 * hash then covers the very bytes the firmware mounted.
 */
import type { Device } from '../device/types.js';
import type { RomfsEntry } from '../romfs/parse.js';
import { viewOf, type ViewHolder } from '../romfs/firmwareView.js';
import { execJson } from './boardJson.js';
import { FlashVerifyError } from './errors.js';
import { answeredSha256, hashBoardImage, hashTimeoutMs } from './hashBoardImage.js';
import { flashProgram } from './programs.js';

export async function verifyBoardImage(device: Device, partition: number, bytes: Uint8Array, expectedSha256: string): Promise<string> {
  return checkHash(device, partition, bytes, expectedSha256, await hashBoardImage(device, partition, bytes.length));
}

function checkHash(device: Device, partition: number, bytes: Uint8Array, expectedSha256: string, got: string): string {
  if (got !== expectedSha256) {
    throw new FlashVerifyError(
      `device ${device.name}: partition ${partition} does not hold the image after writing: board sha256 ${got.slice(0, 16)}…, image ${expectedSha256.slice(0, 16)}… (${bytes.length} bytes)`,
    );
  }
  return got;
}

/** What `/rom` lists on the board: path -> size (-1 for directories, paths end with '/'). */
export async function listRom(device: Device): Promise<Map<string, number> | { error: string }> {
  const r = await execJson<{ entries?: [string, number][]; error?: string }>(device, flashProgram('list_rom'), 'list-rom', 30_000, true);
  if (!r.entries) return { error: r.error ?? 'no answer' };
  return new Map(r.entries);
}

type ListedEntry = Pick<RomfsEntry, 'path' | 'type'> & { size?: number };

/**
 * What `/rom` lists for an image on the board: the firmware's view of it (harness/romfs/
 * firmwareView.ts; a listing stops where VfsRom's does, e.g. at a file record without data),
 * as entries for compareListing (directories end with '/'). The view is walked once per image
 * (viewOf keeps it in the prepared image), not once per listing.
 */
export function firmwareListing(image: ViewHolder): ListedEntry[] {
  return viewOf(image).entries.map((e) => ({
    path: e.type === 'dir' ? `${e.display}/` : e.display,
    type: e.type,
    size: e.type === 'dir' ? undefined : e.open && !('error' in e.open) ? e.open.size : e.listedSize,
  }));
}

/** Differences between the image's entries and a /rom listing (empty when they agree). */
export function compareListing(entries: ListedEntry[], listing: Map<string, number>): string[] {
  const want = new Map<string, number>(entries.map((e) => [e.path, e.type === 'dir' ? -1 : e.size ?? 0]));
  const diffs: string[] = [];
  for (const [p, size] of want) {
    const got = listing.get(p);
    if (got === undefined) diffs.push(`'${p}' missing`);
    else if (got !== size) diffs.push(`'${p}' is ${got} bytes, image has ${size}`);
  }
  for (const p of listing.keys()) if (!want.has(p)) diffs.push(`'${p}' not in the image`);
  return diffs;
}

/**
 * Soft reset, then in one round trip (board program flash/verify.py) the board's sha256 of the
 * partition's first `bytes.length` bytes and its /rom listing: the hash must be the image's and
 * /rom must list what the image holds. Returns the board's sha256.
 */
export async function proveAfterReset(device: Device, partition: number, bytes: Uint8Array, expectedSha256: string, entries: ListedEntry[]): Promise<string> {
  await device.softReset({ timeoutMs: 30_000 });
  const r = await execJson<{ sha256?: string; hashError?: string; entries?: [string, number][]; error?: string }>(
    device, flashProgram('verify', { id: partition, length: bytes.length, step: 16 * 1024 }), 'verification', hashTimeoutMs(bytes.length) + 10_000, true, // the hash's time, plus the listing's
  );
  const got = checkHash(device, partition, bytes, expectedSha256, answeredSha256(device, partition, { sha256: r.sha256, error: r.hashError }));
  checkListing(device, entries, r.entries ? new Map(r.entries) : { error: r.error ?? 'no answer' });
  return got;
}

function checkListing(device: Device, entries: ListedEntry[], listing: Map<string, number> | { error: string }): void {
  if (!(listing instanceof Map)) {
    throw new FlashVerifyError(`device ${device.name}: after soft reset /rom does not mount (${listing.error}); the image was written but the board does not use it`);
  }
  const diffs = compareListing(entries, listing);
  if (diffs.length > 0) {
    throw new FlashVerifyError(`device ${device.name}: after soft reset /rom does not list what the image holds: ${diffs.slice(0, 3).join(', ')}${diffs.length > 3 ? ` (and ${diffs.length - 3} more)` : ''}`);
  }
}
