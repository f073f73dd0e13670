/**
 * Write a planned layout into one buffer. File data is read from disk straight into its place
 * (one copy); every other byte (kinds, padded lengths, names) is written explicitly, so the
 * buffer needs no clearing and the output is fully determined by the inputs.
 */
import { closeSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
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

/**
 * Write a planned layout straight to `path` (through a temp file renamed into place, so a failed
 * build leaves no image): headers and names with positioned writes, file data copied through
 * one reused buffer. No image-sized buffer is allocated.
 */
export function writeImageFile(layout: Layout, path: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw new RomfsBuildError(`${path}: cannot write image (${(e as NodeJS.ErrnoException).code ?? e})`, path);
  }
  const scratch = Buffer.allocUnsafeSlow(4 * 1024 * 1024);
  const head = Buffer.allocUnsafeSlow(64 + 128);
  const put = (buf: Uint8Array, len: number, pos: number) => {
    let off = 0;
    while (off < len) off += writeSync(fd, buf, off, len - off, pos + off);
  };
  try {
    head[0] = 0xd2;
    head[1] = 0xcd;
    head[2] = 0x31;
    put(head, putVaruint(head, 3, layout.payloadLen, layout.headerLenWidth), 0);
    const write = (pn: PlacedNode): void => {
      const n = pn.node;
      const hb = n.name.length + 64 > head.length ? Buffer.allocUnsafe(n.name.length + 64) : head;
      hb[0] = n.type === 'dir' ? KIND.DIR : KIND.FILE;
      let p = putVaruint(hb, 1, pn.payloadLen, pn.lenWidth);
      p = putVaruint(hb, p, n.name.length, varuintLength(n.name.length));
      hb.write(n.name, p, 'latin1');
      p += n.name.length;
      if (n.type === 'dir') {
        put(hb, p, pn.start);
        for (const c of pn.children!) write(c);
        return;
      }
      put(hb, p, pn.start);
      // The data record's kind and padded length can be up to 4 KiB of 0x80 bytes: write them apart.
      const dl = Buffer.allocUnsafe(1 + pn.dataLenWidth!);
      dl[0] = KIND.DATA;
      putVaruint(dl, 1, n.size, pn.dataLenWidth!);
      put(dl, dl.length, pn.start + p);
      if (n.data) {
        put(n.data, n.data.length, pn.dataOffset!);
        return;
      }
      let src;
      try {
        src = openSync(n.source, 'r');
      } catch (e) {
        throw new RomfsBuildError(`${n.source}: cannot open (${(e as NodeJS.ErrnoException).code ?? e})`, n.source);
      }
      try {
        let got = 0;
        while (got < n.size) {
          const r = readSync(src, scratch, 0, Math.min(scratch.length, n.size - got), got);
          if (r === 0) break;
          put(scratch, r, pn.dataOffset! + got);
          got += r;
        }
        if (got !== n.size || readSync(src, scratch, 0, 1, n.size) !== 0) throw new RomfsBuildError(`${n.source}: file changed size while the image was being built`, n.source);
      } finally {
        closeSync(src);
      }
    };
    for (const pn of layout.nodes) write(pn);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}
