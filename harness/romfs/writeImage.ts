/**
 * Write a planned layout into one buffer. File data is read from disk straight into its place
 * (one copy); every other byte (kinds, padded lengths, names) is written explicitly, so the
 * buffer needs no clearing and the output is fully determined by the inputs.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { RomfsBuildError } from './errors.js';
import type { Layout, PlacedNode } from './layout.js';
import { KIND } from './parse.js';
import { varuintLength } from './varuint.js';

/** Write `value` as a varuint of exactly `width` bytes (leading 0x80 padding) at `pos`. */
function putVaruint(out: Uint8Array, pos: number, value: number, width: number): number {
  let v = value;
  for (let i = width - 1; i >= 0; i--) {
    out[pos + i] = (v % 128) | (i === width - 1 ? 0 : 0x80);
    v = Math.floor(v / 128);
  }
  if (v !== 0) throw new RangeError(`varuint ${value} does not fit in ${width} bytes`);
  return pos + width;
}

function readInto(out: Uint8Array, pos: number, source: string, size: number): void {
  let fd;
  try {
    fd = openSync(source, 'r');
  } catch (e) {
    throw new RomfsBuildError(`${source}: cannot open (${(e as NodeJS.ErrnoException).code ?? e})`, source);
  }
  try {
    let got = 0;
    while (got < size) {
      const n = readSync(fd, out, pos + got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    const extra = readSync(fd, new Uint8Array(1), 0, 1, size);
    if (got !== size || extra !== 0) throw new RomfsBuildError(`${source}: file changed size while the image was being built`, source);
  } finally {
    closeSync(fd);
  }
}

export function writeImage(layout: Layout): Uint8Array {
  const out = Buffer.allocUnsafeSlow(layout.total);
  out[0] = 0xd2;
  out[1] = 0xcd;
  out[2] = 0x31;
  putVaruint(out, 3, layout.payloadLen, layout.headerLenWidth);
  const write = (pn: PlacedNode): void => {
    const n = pn.node;
    out[pn.start] = n.type === 'dir' ? KIND.DIR : KIND.FILE;
    let p = putVaruint(out, pn.start + 1, pn.payloadLen, pn.lenWidth);
    p = putVaruint(out, p, n.name.length, varuintLength(n.name.length));
    out.write(n.name, p, 'latin1');
    p += n.name.length;
    if (n.type === 'dir') {
      for (const c of pn.children!) write(c);
      return;
    }
    out[p] = KIND.DATA;
    putVaruint(out, p + 1, n.size, pn.dataLenWidth!);
    if (n.data) out.set(n.data, pn.dataOffset!);
    else readInto(out, pn.dataOffset!, n.source, n.size);
  };
  for (const pn of layout.nodes) write(pn);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
