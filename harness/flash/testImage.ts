/**
 * Test helper (not used by hil itself): a minimal flat ROMFS image built from name/bytes pairs,
 * with no alignment, so tests can craft images (e.g. an .mpy with a chosen header) without the
 * image toolchain.
 */
import { encodeVaruint } from '../romfs/varuint.js';

function record(kind: number, payload: Uint8Array): Uint8Array {
  const k = encodeVaruint(kind);
  const l = encodeVaruint(payload.length);
  const out = new Uint8Array(k.length + l.length + payload.length);
  out.set(k, 0);
  out.set(l, k.length);
  out.set(payload, k.length + l.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function flatRomfs(files: { name: string; data: Uint8Array }[]): Uint8Array {
  const recs = files.map((f) => {
    const name = new TextEncoder().encode(f.name);
    return record(5, concat([encodeVaruint(name.length), name, record(2, f.data)]));
  });
  const payload = concat(recs);
  const img = record(0x14a6b1, payload);
  return img;
}
