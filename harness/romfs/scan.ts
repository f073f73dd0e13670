/**
 * A lenient structural scan: every directory and file record the bytes hold, whatever is wrong
 * around them, so the release gate can name each file the firmware would miss. Values are exact
 * (no 32-bit wrap: this is what the records say, not what a board reads), walks are iterative and
 * stay inside the header's length (clipped to the input), a damaged record ends only its own
 * directory, and a kind-0 record is stepped over (the firmware stops there; the scan goes on to
 * see what the firmware does not). Compare with firmwareView.ts to find where they differ.
 */
import { displayPath } from './firmwareView.js';

export interface ScannedData {
  kind: 'verbatim' | 'indirect';
  /** Offset of the data from the image's first byte. */
  offset: number;
  size: number;
  /** Offset of the data record itself. */
  at: number;
}

export interface ScannedFile {
  type: 'file';
  path: Uint8Array;
  display: string;
  /** Offset of the file record. */
  at: number;
  /** Data and indirect records in record order (the firmware reads only the first). */
  data: ScannedData[];
  /** A kind-0 record comes before the first data record (the firmware's open fails there). */
  kind0BeforeData: boolean;
}

export interface ScannedDir {
  type: 'dir';
  path: Uint8Array;
  display: string;
  at: number;
}

export interface ScanDamage {
  at: number;
  /** Display path of the directory or file the damage is in ('' for the root). */
  in: string;
  message: string;
}

export interface RomfsScan {
  /** False when the input has no ROMFS header at all. */
  header: boolean;
  payloadStart: number;
  /** The payload length the header gives (exact). */
  payloadLength: number;
  /** Where the image ends by its header (payloadStart + payloadLength), maybe past the input. */
  imageEnd: number;
  entries: (ScannedFile | ScannedDir)[];
  damage: ScanDamage[];
}

/** An exact varuint (undefined when it runs to `end` or past 2^53). */
function varuint(buf: Uint8Array, pos: number, end: number): { value: number; next: number } | undefined {
  let v = 0;
  for (let p = pos; p < end; p++) {
    const b = buf[p]!;
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER) return undefined;
    if ((b & 0x80) === 0) return { value: v, next: p + 1 };
  }
  return undefined;
}

/** `parent/name`; the root's children are just `name` (an empty-named directory's are `/name`). */
function join(parent: Uint8Array | undefined, name: Uint8Array): Uint8Array {
  if (parent === undefined) return name;
  const out = new Uint8Array(parent.length + 1 + name.length);
  out.set(parent);
  out[parent.length] = 0x2f;
  out.set(name, parent.length + 1);
  return out;
}

export function scanRomfs(buf: Uint8Array): RomfsScan {
  const none: RomfsScan = { header: false, payloadStart: 0, payloadLength: 0, imageEnd: 0, entries: [], damage: [] };
  if (buf.length < 4 || buf[0] !== 0xd2 || buf[1] !== 0xcd || buf[2] !== 0x31) return none;
  const len = varuint(buf, 3, buf.length);
  if (!len) return { ...none, header: true, damage: [{ at: 3, in: '', message: 'the header length does not decode' }] };
  const payloadStart = len.next;
  const imageEnd = payloadStart + len.value;
  const scan: RomfsScan = { header: true, payloadStart, payloadLength: len.value, imageEnd, entries: [], damage: [] };
  const end = Math.min(imageEnd, buf.length);

  const fileData = (file: ScannedFile, pos: number, recEnd: number): void => {
    let kind0 = false;
    while (pos < recEnd) {
      const k = varuint(buf, pos, recEnd);
      const l = k && varuint(buf, k.next, recEnd);
      if (!k || !l) {
        scan.damage.push({ at: pos, in: file.display, message: 'a record that does not decode' });
        return;
      }
      const dEnd = l.next + l.value;
      if (k.value === 0) kind0 = true;
      if (k.value === 2) {
        if (kind0 && file.data.length === 0) file.kind0BeforeData = true;
        file.data.push({ kind: 'verbatim', offset: l.next, size: Math.min(l.value, Math.max(0, recEnd - l.next)), at: pos });
      } else if (k.value === 3) {
        if (kind0 && file.data.length === 0) file.kind0BeforeData = true;
        const size = varuint(buf, l.next, Math.min(dEnd, recEnd));
        const off = size && varuint(buf, size.next, Math.min(dEnd, recEnd));
        if (size && off) file.data.push({ kind: 'indirect', offset: payloadStart + off.value, size: size.value, at: pos });
        else scan.damage.push({ at: pos, in: file.display, message: 'an indirect record whose size or offset does not decode' });
      }
      if (dEnd > recEnd) {
        scan.damage.push({ at: pos, in: file.display, message: 'a record runs past the end of the file record' });
        return;
      }
      pos = dEnd;
    }
  };

  // Iterative walk: a stack of directories still to scan (start, end, path).
  const stack: { pos: number; end: number; path?: Uint8Array }[] = [{ pos: payloadStart, end }];
  const found: { at: number; entry: ScannedFile | ScannedDir }[] = [];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const dirName = dir.path ? displayPath(dir.path) : '';
    const children: { pos: number; end: number; path?: Uint8Array }[] = [];
    let pos = dir.pos;
    while (pos < dir.end) {
      const k = varuint(buf, pos, dir.end);
      const l = k && varuint(buf, k.next, dir.end);
      if (!k || !l) {
        scan.damage.push({ at: pos, in: dirName, message: 'a record that does not decode' });
        break;
      }
      let recEnd = l.next + l.value;
      if (recEnd > dir.end) {
        scan.damage.push({ at: pos, in: dirName, message: `a record of kind ${k.value} runs past the end of its directory` });
        recEnd = dir.end;
      }
      if (k.value === 0) scan.damage.push({ at: pos, in: dirName, message: 'a record of kind 0 (the firmware stops listing here)' });
      if (k.value === 4 || k.value === 5) {
        const nl = varuint(buf, l.next, recEnd);
        if (!nl) scan.damage.push({ at: pos, in: dirName, message: 'a name length that does not decode' });
        else {
          // A name that runs past its record is taken as far as the record goes (a cut image
          // leaves such names; the entry is then reported, not silently dropped).
          let nameEnd = nl.next + nl.value;
          if (nameEnd > recEnd) {
            scan.damage.push({ at: pos, in: dirName, message: 'a name that runs past its record' });
            nameEnd = recEnd;
          }
          const path = join(dir.path, buf.subarray(nl.next, nameEnd));
          const display = displayPath(path);
          if (k.value === 4) {
            found.push({ at: pos, entry: { type: 'dir', path, display, at: pos } });
            children.push({ pos: nameEnd, end: recEnd, path });
          } else {
            const f: ScannedFile = { type: 'file', path, display, at: pos, data: [], kind0BeforeData: false };
            fileData(f, nameEnd, recEnd);
            found.push({ at: pos, entry: f });
          }
        }
      }
      pos = recEnd;
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  // Record order in the image is depth-first order (a directory's records sit inside it).
  found.sort((a, b) => a.at - b.at);
  scan.entries = found.map((f) => f.entry);
  return scan;
}
