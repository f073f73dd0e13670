/**
 * Turn what the user gave (image bytes, an image file, or a source directory) into a checked
 * image: a source directory is built with the device's profile first; every image is parsed
 * strictly (a malformed image is refused before any board is touched, exit 2).
 * Only the image record itself (header + payload) is flashed: trailing padding in a file is dropped.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { BoardProfile } from '../profile/profile.js';
import { parseRomfs, type RomfsEntry } from '../romfs/parse.js';
import { RomfsFormatError } from '../romfs/errors.js';
import type { FirmwareView } from '../romfs/firmwareView.js';
import { sha256Hex } from '../sha256.js';
import { FlashInputError } from './errors.js';

export interface PreparedImage {
  /** For messages: the file or directory name, or `<bytes>`. */
  name: string;
  /** The bytes to flash (the image record). */
  bytes: Uint8Array;
  length: number;
  entries: RomfsEntry[];
  sha256: string;
  /** True when built from a source directory. */
  built: boolean;
  /**
   * Set when the firmware would not read the image as written (a file record without data, a
   * varuint a 32-bit board reads differently, ...): what the strict parse said. Such an image is
   * flashed only on request (a scenario that must FAIL naming the file); `hil flash` refuses it.
   */
  firmwareFault?: string;
  /**
   * The image as the firmware reads it (what a flash's proof and the listing check compare the
   * board with), once walked: set by romfs/firmwareView.ts's viewOf, the first time something
   * asks for it. Not walked here: a flash that finds the image already on the board never needs
   * it, nor loads the VfsRom model.
   */
  view?: FirmwareView;
}

export type ImageInput = { image: Uint8Array; name?: string } | { imagePath: string } | { sourceDir: string };

/**
 * Parse strictly and keep only the image record. An image without firmware faults is parsed
 * once (the tolerant parse gives the same entries then); only a strict refusal parses it again,
 * tolerantly, to tell a firmware fault from an invalid image.
 */
export function checkImageBytes(bytes: Uint8Array, name: string, built = false): PreparedImage {
  let parsed;
  let firmwareFault: string | undefined;
  try {
    parsed = parseRomfs(bytes);
  } catch (e) {
    if (!(e instanceof RomfsFormatError)) throw e;
    try {
      parsed = parseRomfs(bytes, { firmwareFaults: 'accept' });
    } catch (e2) {
      if (e2 instanceof RomfsFormatError) throw new FlashInputError(`image ${name}: not a valid ROMFS image: ${e2.message}`);
      throw e2;
    }
    firmwareFault = e.message;
  }
  const img = bytes.subarray(0, parsed.imageLength);
  return { name, bytes: img, length: img.length, entries: parsed.entries, sha256: sha256Hex(img), built, ...(firmwareFault ? { firmwareFault } : {}) };
}


export async function prepareImage(input: ImageInput, profile: BoardProfile): Promise<PreparedImage> {
  if ('image' in input) return checkImageBytes(input.image, input.name ?? '<bytes>');
  const path = 'imagePath' in input ? input.imagePath : input.sourceDir;
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new FlashInputError(`${path}: no such image file or source directory`);
  }
  if (st.isDirectory()) {
    // Loaded on demand: only source directories need the image toolchain.
    const { buildImage } = await import('../romfs/build.js');
    const built = await buildImage({ sourceDir: path, profile });
    return checkImageBytes(built.bytes, `${basename(path)}/ (built for ${profile.name})`, true);
  }
  if ('sourceDir' in input) throw new FlashInputError(`${path}: not a directory`);
  return checkImageBytes(new Uint8Array(await readFile(path)), path);
}
