/**
 * ROMFS varuint: big-endian groups of 7 bits, bit 7 set on every byte but the last.
 * A leading 0x80 adds nothing, which is how builders pad a length without changing it.
 */
import { RomfsFormatError } from './errors.js';

/** Largest value we accept while decoding; larger means corrupt (images are far below 2^48). */
const MAX_SAFE = 2 ** 48;

export interface Decoded {
  value: number;
  /** Offset of the first byte after the varuint. */
  next: number;
}

/** Decode a varuint at `pos`, not reading at or past `end`. */
export function decodeVaruint(buf: Uint8Array, pos: number, end = buf.length): Decoded {
  let value = 0;
  let p = pos;
  for (;;) {
    if (p >= end) throw new RomfsFormatError('varuint runs past the end of its record', pos);
    const b = buf[p++]!;
    value = value * 128 + (b & 0x7f);
    if (value > MAX_SAFE) throw new RomfsFormatError('varuint too large', pos);
    if ((b & 0x80) === 0) return { value, next: p };
  }
}

/** Minimal encoding of `value`. */
export function encodeVaruint(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`varuint must be a non-negative integer: ${value}`);
  const bytes: number[] = [value % 128];
  let v = Math.floor(value / 128);
  while (v > 0) {
    bytes.unshift((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  return Uint8Array.from(bytes);
}

/** Encode `value` in exactly `width` bytes, padding with leading 0x80 bytes. */
export function encodeVaruintPadded(value: number, width: number): Uint8Array {
  const min = encodeVaruint(value);
  if (min.length > width) throw new RangeError(`varuint ${value} needs ${min.length} bytes, more than ${width}`);
  const out = new Uint8Array(width).fill(0x80);
  out.set(min, width - min.length);
  return out;
}

export function varuintLength(value: number): number {
  let n = 1;
  let v = Math.floor(value / 128);
  while (v > 0) {
    n++;
    v = Math.floor(v / 128);
  }
  return n;
}
