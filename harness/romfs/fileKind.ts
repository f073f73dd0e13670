/** What a file in an image is: TFLite flatbuffer, ST network binary, .mpy, text, or other. */
import { mpyHeader, type MpyHeader } from './mpyHeader.js';

export type FileKindName = 'tflite' | 'nbin' | 'mpy' | 'text' | 'other';

export interface FileKind {
  kind: FileKindName;
  /** Present for kind 'mpy'. */
  mpy?: MpyHeader;
}

const TFL3 = [0x54, 0x46, 0x4c, 0x33];
const NBIN = [0x4e, 0x42, 0x49, 0x4e];

function at(bytes: Uint8Array, pos: number, magic: number[]): boolean {
  if (bytes.length < pos + magic.length) return false;
  return magic.every((b, i) => bytes[pos + i] === b);
}

function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8192);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) return false;
    if (b < 0x20 && b !== 9 && b !== 10 && b !== 13 && b !== 12) bad++;
  }
  if (bad > n / 100) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n));
    return true;
  } catch {
    // A multi-byte character cut at the sample's end is still text.
    return n < bytes.length;
  }
}

export function fileKind(path: string, bytes: Uint8Array): FileKind {
  if (at(bytes, 4, TFL3)) return { kind: 'tflite' };
  if (at(bytes, 0, NBIN)) return { kind: 'nbin' };
  const mpy = path.endsWith('.mpy') ? mpyHeader(bytes) : undefined;
  if (mpy) return { kind: 'mpy', mpy };
  if (bytes.length > 0 && looksLikeText(bytes)) return { kind: 'text' };
  return { kind: 'other' };
}
