/**
 * Test and benchmark helper (not used by `hil flash` itself): a flat ROMFS image built from
 * name/bytes pairs, so tests can craft images (an .mpy with a chosen header, an incompressible
 * model) without the image toolchain. With `align`, a padding record (kind 1) is put in front of
 * each file so its data starts on that boundary; without it, data lands wherever it falls.
 */
import { encodeVaruint, encodeVaruintPadded } from '../romfs/varuint.js';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function record(kind: number, payload: Uint8Array): Uint8Array {
  return concat([encodeVaruint(kind), encodeVaruint(payload.length), payload]);
}

function fileRecord(name: string, data: Uint8Array): { bytes: Uint8Array; dataOffset: number } {
  const n = new TextEncoder().encode(name);
  const dataRec = record(2, data);
  const payload = concat([encodeVaruint(n.length), n, dataRec]);
  const bytes = record(5, payload);
  return { bytes, dataOffset: bytes.length - data.length };
}

export function flatRomfs(files: { name: string; data: Uint8Array }[], align = 0): Uint8Array {
  const HEADER = 7; // d2 cd 31 + 4-byte padded length
  const parts: Uint8Array[] = [];
  let pos = HEADER;
  for (const f of files) {
    const rec = fileRecord(f.name, f.data);
    if (align > 1) {
      // Smallest padding record (>= 2 bytes: kind + length) that puts the data on the boundary.
      let pad = 0;
      const at = (p: number) => pos + p + rec.dataOffset;
      if (at(0) % align !== 0) {
        for (let size = 0; ; size++) {
          const padRec = record(1, new Uint8Array(size));
          if (at(padRec.length) % align === 0) {
            parts.push(padRec);
            pad = padRec.length;
            break;
          }
        }
      }
      pos += pad;
    }
    parts.push(rec.bytes);
    pos += rec.bytes.length;
  }
  const payload = concat(parts);
  return concat([Uint8Array.of(0xd2, 0xcd, 0x31), encodeVaruintPadded(payload.length, 4), payload]);
}

/**
 * A valid ROMFS image of exactly `length` bytes (7, the empty image: magic + padded length 0, or
 * 13 and more): one file `d` (not a model name; a second tiny file where lengths jump) whose
 * size and name length are chosen so the records add up. Contents are pseudo-random from `seed`, so images of one length differ by seed.
 */
export function romfsOfLength(length: number, seed = 1): Uint8Array {
  if (!Number.isInteger(length) || length < 7) throw new RangeError(`a ROMFS image has at least 7 bytes (got ${length})`);
  if (length === 7) return flatRomfs([]);
  let x = (seed * 2654435761) >>> 0;
  const rnd = (n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[i] = x >>> 24;
    }
    return b;
  };
  // One file of the right size; where varuint lengths jump past a length, a second small file.
  for (const extra of [0, 1, 2, 3]) {
    for (let nameLen = 1; nameLen <= 8; nameLen++) {
      const name = 'd'.repeat(nameLen);
      const more = extra ? [{ name: 'e', data: new Uint8Array(extra - 1) }] : [];
      for (let size = Math.max(0, length - 40); size <= length; size++) {
        const probe = flatRomfs([{ name, data: new Uint8Array(size) }, ...more]);
        if (probe.length === length) return flatRomfs([{ name, data: rnd(size) }, ...more]);
        if (probe.length > length) break;
      }
    }
  }
  throw new RangeError(`no small ROMFS image of exactly ${length} bytes`);
}
