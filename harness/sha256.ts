/** The sha256 of bytes (or of a string's UTF-8), as lowercase hex: how hil names an image, a file or a key. */
import { createHash } from 'node:crypto';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
