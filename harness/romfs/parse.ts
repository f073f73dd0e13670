/**
 * Strict ROMFS parser, for builders and as the first half of the release gate. It accepts only
 * images every reader agrees on and reports, as a typed RomfsFormatError, anything else: bad
 * header, truncated records, varuints or lengths past the end, varuints of 2^32 or more (a 32-bit
 * board keeps only the low 32 bits), kind-0 records (the firmware stops there: in a directory it
 * ends the listing, in a file before its data it makes the file ENOENT), a file with no data
 * record (ENOENT to the firmware, not an empty file) or with two (the firmware reads only the
 * first), indirect data out of range, duplicate or non-ASCII names. What the firmware itself
 * does with an image is vfsRom.ts / firmwareView.ts; verify uses both.
 */
import { decodeVaruint as decodeVaruint64 } from './varuint.js';
import { RomfsFormatError } from './errors.js';

export const ROMFS_MAGIC = Uint8Array.of(0xd2, 0xcd, 0x31);
export const KIND = { UNUSED: 0, PADDING: 1, DATA: 2, INDIRECT: 3, DIR: 4, FILE: 5 } as const;

export interface RomfsDirEntry {
  type: 'dir';
  /** Path with a trailing slash, e.g. `lib/mylib/`. */
  path: string;
}
export interface RomfsFileEntry {
  type: 'file';
  path: string;
  /** Offset of the file's data from the start of the image (its in-flash address minus the origin). */
  offset: number;
  size: number;
}
export type RomfsEntry = RomfsDirEntry | RomfsFileEntry;

export interface RomfsImage {
  /** Offset of the first record inside the image record's payload. */
  payloadStart: number;
  /** Total bytes the image record covers (header + payload). */
  imageLength: number;
  /** Depth-first, in image order; directories before their contents. */
  entries: RomfsEntry[];
}

export interface ParseOptions {
  /** Reject names with bytes outside printable ASCII (default true). */
  asciiNames?: boolean;
  /** Maximum directory depth (default 64) so hostile images cannot exhaust the stack. */
  maxDepth?: number;
  /**
   * 'reject' (default, for builders, inspect, flash): refuse what the firmware reads differently
   * (a file with no data record or with two, kind 0 in a file, varuints of 2^32 or more).
   * 'accept': give the records as they stand (a file without data as 0 bytes at its record's end,
   * the first data record of several, kind 0 in a file skipped), for callers that judge the image
   * with the firmware's own view (firmwareView), e.g. a scenario that must FAIL naming such a file.
   */
  firmwareFaults?: 'reject' | 'accept';
}

const WORD = 2 ** 32;

export function parseRomfs(buf: Uint8Array, opts: ParseOptions = {}): RomfsImage {
  const asciiNames = opts.asciiNames ?? true;
  const maxDepth = opts.maxDepth ?? 64;
  const tolerate = opts.firmwareFaults === 'accept';
  /** decodeVaruint, refusing values a 32-bit board would read differently. */
  const decodeVaruint = (b: Uint8Array, pos: number, end = b.length): { value: number; next: number } => {
    const d = decodeVaruint64(b, pos, end);
    if (d.value >= WORD && !tolerate) throw new RomfsFormatError(`varuint ${d.value} is 2^32 or more: a 32-bit board reads it as ${d.value % WORD}`, pos);
    return d;
  };
  if (buf.length < 4) throw new RomfsFormatError('image too short for a ROMFS header', 0);
  if (buf[0] !== 0xd2 || buf[1] !== 0xcd || buf[2] !== 0x31) {
    throw new RomfsFormatError('bad header: expected ROMFS magic d2 cd 31', 0);
  }
  const len = decodeVaruint(buf, 3);
  const payloadStart = len.next;
  const end = payloadStart + len.value;
  if (end > buf.length) {
    throw new RomfsFormatError(`image length ${end} is past the end of the file (${buf.length} bytes)`, 3);
  }
  const entries: RomfsEntry[] = [];

  const readName = (pos: number, recEnd: number): { name: string; next: number } => {
    const nl = decodeVaruint(buf, pos, recEnd);
    const nameEnd = nl.next + nl.value;
    if (nameEnd > recEnd) throw new RomfsFormatError('name runs past the end of its record', nl.next);
    const bytes = buf.subarray(nl.next, nameEnd);
    if (bytes.length === 0) throw new RomfsFormatError('empty name', nl.next);
    let name = '';
    for (const b of bytes) {
      if (asciiNames && (b < 0x20 || b > 0x7e)) throw new RomfsFormatError(`non-ASCII byte 0x${b.toString(16)} in a name`, nl.next);
      name += String.fromCharCode(b);
    }
    if (name === '.' || name === '..' || name.includes('/')) throw new RomfsFormatError(`invalid name '${name}'`, nl.next);
    return { name, next: nameEnd };
  };

  const walk = (pos: number, dirEnd: number, prefix: string, depth: number): void => {
    if (depth > maxDepth) throw new RomfsFormatError(`directories nested deeper than ${maxDepth}`, pos);
    const seen = new Set<string>();
    while (pos < dirEnd) {
      const kind = decodeVaruint(buf, pos, dirEnd);
      const plen = decodeVaruint(buf, kind.next, dirEnd);
      const recStart = plen.next;
      const recEnd = recStart + plen.value;
      if (recEnd > dirEnd) throw new RomfsFormatError(`record of kind ${kind.value} runs past the end of its parent`, pos);
      if (kind.value === KIND.UNUSED) {
        // The firmware stops a directory walk at kind 0; in a release image it means corruption.
        throw new RomfsFormatError('record of kind 0 (unused) inside a directory', pos);
      }
      if (kind.value === KIND.DIR || kind.value === KIND.FILE) {
        const { name, next } = readName(recStart, recEnd);
        if (seen.has(name)) throw new RomfsFormatError(`duplicate name '${prefix}${name}'`, pos);
        seen.add(name);
        if (kind.value === KIND.DIR) {
          entries.push({ type: 'dir', path: `${prefix}${name}/` });
          walk(next, recEnd, `${prefix}${name}/`, depth + 1);
        } else {
          entries.push({ type: 'file', path: `${prefix}${name}`, ...fileData(next, recEnd, `${prefix}${name}`) });
        }
      }
      // Kinds 1 (padding), 2/3 outside a file, and unknown kinds are skipped, as the firmware does.
      pos = recEnd;
    }
  };

  const fileData = (pos: number, recEnd: number, path: string): { offset: number; size: number } => {
    let data: { offset: number; size: number } | undefined;
    while (pos < recEnd) {
      const kind = decodeVaruint(buf, pos, recEnd);
      const plen = decodeVaruint(buf, kind.next, recEnd);
      const dataStart = plen.next;
      const dataEnd = dataStart + plen.value;
      if (dataEnd > recEnd) throw new RomfsFormatError(`data of '${path}' runs past the end of its record`, pos);
      if (kind.value === KIND.UNUSED && !tolerate) {
        throw new RomfsFormatError(`record of kind 0 (unused) in file '${path}'${data ? '' : ' before its data: the firmware cannot open the file (ENOENT)'}`, pos);
      }
      if (kind.value === KIND.DATA || kind.value === KIND.INDIRECT) {
        if (data && tolerate) return data;
        if (data) throw new RomfsFormatError(`file '${path}' has a second data record: the firmware reads only the first`, pos);
        if (kind.value === KIND.DATA) data = { offset: dataStart, size: plen.value };
        else {
          const size = decodeVaruint(buf, dataStart, dataEnd);
          const off = decodeVaruint(buf, size.next, dataEnd);
          const offset = payloadStart + off.value;
          if (offset + size.value > end) {
            throw new RomfsFormatError(`indirect data of '${path}' (offset ${offset}, size ${size.value}) is outside the image`, pos);
          }
          data = { offset, size: size.value };
        }
      }
      pos = dataEnd;
    }
    // The firmware opens a file only through a data record: without one it is ENOENT, not empty.
    if (!data && tolerate) return { offset: recEnd, size: 0 };
    if (!data) throw new RomfsFormatError(`file '${path}' has no data record: the firmware cannot open it (ENOENT)`, recEnd);
    return data;
  };

  walk(payloadStart, end, '', 0);
  return { payloadStart, imageLength: end, entries };
}
