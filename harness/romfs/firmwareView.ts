/**
 * What a cam's firmware sees in an image: mounted with the VfsRom model (vfsRom.ts) the way a
 * board mounts its partition, every directory listed from the root in listing order, every listed
 * file opened by its path (so a name the search resolves elsewhere, a duplicate or a file whose
 * data cannot be found shows here as the firmware has it). This is what `/rom` lists on a board,
 * and what the scenario's listing check must expect.
 */
import { sha256Hex } from '../sha256.js';
import { mountVfsRom, romPath, isMicroPythonStr, VfsRomError, type VfsRom, type VfsRomErrno, type VfsRomOptions } from './vfsRom.js';

export interface FirmwareFileData {
  /** Data offset from the image's first byte (may be negative or past the buffer when records say so). */
  offset: number;
  /** len(memoryview(f)) as Python sees it. */
  size: number;
  /** Bytes the file covers (unsigned). */
  length: number;
  /** The data is not entirely inside the buffer the firmware was given. */
  outside: boolean;
  /** sha256 of the data as the firmware reads it (absent when outside). */
  sha256?: string;
}

export interface FirmwareEntry {
  /** Raw path bytes inside the image (names joined with '/', no leading slash). */
  path: Uint8Array;
  /** The path as text: UTF-8 when it is strict UTF-8, else 'hex:' + its bytes (truth.json's form). */
  display: string;
  /** The name as its directory listed it. */
  name: Uint8Array;
  /** The directory entry it was listed in (absent for the root's entries). */
  parent?: FirmwareEntry;
  type: 'dir' | 'file';
  /** Size ilistdir gave for the entry. */
  listedSize: number;
  /** Files: what open(path) gives (data, or the errno when the firmware cannot open the listed file). */
  open?: FirmwareFileData | { error: VfsRomErrno };
  /** Directories: how their own listing went. */
  listing?: DirListing;
}

/**
 * How a listing ended: 'complete' when it ran to the end of its records, or
 * { error } (ENOENT: the path does not resolve to this directory; hang), or 'endless'.
 * A listing the firmware stops silently at a corrupt record is 'complete' here (the firmware
 * cannot tell); compare with a structural parse to see what it missed.
 */
export type DirListing = 'complete' | 'endless' | { error: VfsRomErrno };

export interface FirmwareView {
  mount: 'ok' | { error: VfsRomErrno };
  /** The root's listing. */
  root?: DirListing;
  /** Every entry the listing reaches, depth-first in listing order (a directory before its contents). */
  entries: FirmwareEntry[];
  /** Names (display paths) the firmware lists but would raise UnicodeError for in a str listing (os.listdir('/rom/...')). */
  notStr: string[];
  /** True when the walk stopped at `maxEntries`. */
  truncated: boolean;
}

export interface FirmwareViewOptions extends VfsRomOptions {
  /** Entries one listing may yield before it counts as endless (default 5000). */
  maxListing?: number;
  /** Entries in all (default 100000). */
  maxEntries?: number;
}

/** truth.json's way of writing a path: strict UTF-8, else 'hex:' + bytes. */
export function displayPath(path: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(path);
  } catch {
    return `hex:${Buffer.from(path).toString('hex')}`;
  }
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

/** The path as the firmware's search sees it (a C string: cut at the first NUL), as a map key. */
function resolvedKey(path: Uint8Array): string {
  const nul = path.indexOf(0);
  return Buffer.from(nul < 0 ? path : path.subarray(0, nul)).toString('hex');
}

const errnoOf = (e: unknown): { error: VfsRomErrno } => {
  if (e instanceof VfsRomError) return { error: e.errno };
  throw e;
};

/** Open a path inside the image as the firmware does. */
export function firmwareOpen(vfs: VfsRom, path: Uint8Array | string): FirmwareFileData | { error: VfsRomErrno } {
  try {
    const f = vfs.open(romPath(path));
    return f.outside ? { ...f } : { ...f, sha256: sha256Hex(vfs.read(f.offset, f.length)) };
  } catch (e) {
    return errnoOf(e);
  }
}

/** Something holding an image and, once walked, the firmware's view of it (flash/prepareImage.ts's PreparedImage). */
export interface ViewHolder {
  readonly bytes: Uint8Array;
  view?: FirmwareView;
}

/**
 * The firmware's view of `holder`'s image, walked the first time it is asked for and kept in the
 * holder: one walk per image, however many boards compare with it.
 */
export function viewOf(holder: ViewHolder): FirmwareView {
  return (holder.view ??= firmwareView(holder.bytes));
}

/**
 * Walk an image as a board's firmware does. `opts.bufferLength` is the partition's size when the
 * image sits in one (bytes after the image read as erased flash, 0xFF, unless `beyond` says else).
 */
export function firmwareView(image: Uint8Array, opts: FirmwareViewOptions = {}): FirmwareView {
  const maxListing = opts.maxListing ?? 5000;
  const maxEntries = opts.maxEntries ?? 100_000;
  let vfs: VfsRom;
  try {
    vfs = mountVfsRom(image, opts);
  } catch (e) {
    return { mount: errnoOf(e), entries: [], notStr: [], truncated: false };
  }
  const entries: FirmwareEntry[] = [];
  const notStr: string[] = [];
  const visited = new Set<string>([resolvedKey(new Uint8Array(0))]);
  let truncated = false;

  /** List `dir`, push its entries (and, depth-first, theirs); iterative so depth costs no stack. */
  const listOne = (dir: Uint8Array, parent?: FirmwareEntry): { listing: DirListing; children: { entry: FirmwareEntry }[] } => {
    const children: { entry: FirmwareEntry }[] = [];
    let it;
    try {
      it = vfs.ilistdir(romPath(dir));
    } catch (e) {
      return { listing: errnoOf(e), children };
    }
    let listing: DirListing = 'complete';
    try {
      for (let r = it.next(); !r.done; r = it.next()) {
        if (children.length >= maxListing) {
          listing = 'endless';
          break;
        }
        const e = r.value;
        const path = join(parent ? dir : undefined, e.name);
        const entry: FirmwareEntry = { path, display: displayPath(path), name: e.name, ...(parent ? { parent } : {}), type: e.type, listedSize: e.size };
        if (!isMicroPythonStr(e.name)) notStr.push(entry.display);
        children.push({ entry });
      }
    } catch (e) {
      listing = errnoOf(e);
    }
    return { listing, children };
  };

  const rootList = listOne(new Uint8Array(0));
  // Depth-first, in listing order: a stack of pending children lists.
  const stack: { entry: FirmwareEntry }[][] = [rootList.children.slice().reverse()];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const next = top.pop();
    if (!next) {
      stack.pop();
      continue;
    }
    const { entry } = next;
    if (entries.length >= maxEntries) {
      truncated = true;
      break;
    }
    entries.push(entry);
    if (entry.type === 'file') entry.open = firmwareOpen(vfs, entry.path);
    else if (visited.has(resolvedKey(entry.path))) {
      // A path the firmware resolves to one already walked (a name with a NUL cuts the C string
      // there; an empty name joins to its parent's path; a duplicate name): not walked twice.
      entry.listing = entries.find((e) => e !== entry && e.type === 'dir' && resolvedKey(e.path) === resolvedKey(entry.path))?.listing ?? rootList.listing;
    } else {
      visited.add(resolvedKey(entry.path));
      const sub = listOne(entry.path, entry);
      entry.listing = sub.listing;
      stack.push(sub.children.slice().reverse());
    }
  }
  return { mount: 'ok', root: rootList.listing, entries, notStr, truncated };
}
