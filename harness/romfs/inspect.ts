/**
 * What is in an image: per file its size, data offset, the alignment the offset achieves
 * (largest power of two dividing it, capped at 4096), its kind and sha256. Parsed strictly.
 */
import { sha256Hex } from '../sha256.js';
import { parseRomfs, type RomfsImage } from './parse.js';
import { fileKind, type FileKindName } from './fileKind.js';
import type { MpyHeader } from './mpyHeader.js';
import { MAX_ALIGN } from './rules.js';

export interface InspectedFile {
  type: 'file';
  path: string;
  size: number;
  offset: number;
  /** Largest power of two dividing `offset`, capped at 4096 (offset 0 counts as 4096). */
  alignment: number;
  kind: FileKindName;
  mpy?: MpyHeader;
  sha256: string;
}
export interface InspectedDir {
  type: 'dir';
  path: string;
}
export type InspectedEntry = InspectedFile | InspectedDir;

export interface Inspection {
  /** Bytes the image record covers. */
  imageLength: number;
  /** Bytes in the input (may exceed imageLength: erased flash after the image). */
  inputLength: number;
  sha256: string;
  entries: InspectedEntry[];
}

export function achievedAlignment(offset: number): number {
  if (offset === 0) return MAX_ALIGN;
  let a = 1;
  while (a < MAX_ALIGN && offset % (a * 2) === 0) a *= 2;
  return a;
}

/** Inspect image bytes; throws RomfsFormatError when the image does not parse strictly. */
export function inspectImage(bytes: Uint8Array, parsed: RomfsImage = parseRomfs(bytes)): Inspection {
  const entries: InspectedEntry[] = parsed.entries.map((e) => {
    if (e.type === 'dir') return { type: 'dir', path: e.path };
    const data = bytes.subarray(e.offset, e.offset + e.size);
    const k = fileKind(e.path, data);
    return { type: 'file', path: e.path, size: e.size, offset: e.offset, alignment: achievedAlignment(e.offset), kind: k.kind, ...(k.mpy ? { mpy: k.mpy } : {}), sha256: sha256Hex(data) };
  });
  return { imageLength: parsed.imageLength, inputLength: bytes.length, sha256: sha256Hex(bytes.subarray(0, parsed.imageLength)), entries };
}

/** Human-readable tree, one line per entry. */
export function formatInspection(ins: Inspection, name: string): string {
  const lines = [`${name}: ROMFS image, ${ins.imageLength} bytes, sha256 ${ins.sha256}`];
  for (const e of ins.entries) {
    const parts = e.path.replace(/\/$/, '').split('/');
    const indent = '  '.repeat(parts.length);
    if (e.type === 'dir') {
      lines.push(`${indent}${parts[parts.length - 1]}/`);
      continue;
    }
    const kind = e.mpy ? `mpy v${e.mpy.version} ${e.mpy.archName}${e.mpy.subVersion ? `.${e.mpy.subVersion}` : ''}` : e.kind;
    lines.push(`${indent}${parts[parts.length - 1]}  size ${e.size}  offset ${e.offset}  align ${e.alignment}  ${kind}  sha256 ${e.sha256}`);
  }
  return lines.join('\n');
}
