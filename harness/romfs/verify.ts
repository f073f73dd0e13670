/**
 * The release gate for images from any builder. Two readings of the image are compared:
 * - the strict parse (parse.ts), which refuses anything readers could disagree on, and a lenient
 *   scan (scan.ts) of every record the bytes hold;
 * - the firmware's own reading (vfsRom.ts / firmwareView.ts: a 32-bit board with the image at
 *   the start of its erased partition).
 * Errors: an image the firmware does not mount; a file the records hold that the firmware cannot
 * open or does not list (no data record, a kind-0 record before its data or in its directory, a
 * name resolved elsewhere); a file the firmware reads differently (a second data record, indirect
 * data outside the image, 32-bit wrap); names os.listdir cannot make a str of; then, per file the
 * firmware opens: models (the one rule, models.ts) not aligned at their address on the board
 * (origin + offset) or in a format the profile's `ml` does not run, `.mpy` files the firmware
 * cannot load, `.py` files that do not compile (verifyImage compiles each with mpy-cross).
 * Warnings: uncompiled `.py`, empty files, an image with no files, non-erased bytes after the
 * image's end (an error when the image is empty: a header length corrupted to 0), a file named
 * like a model that holds none. Overflow against an explicit partition size is an error; against
 * only the profile's nominal size a warning (`hil flash` checks the size the board reports).
 */
import type { BoardProfile } from '../profile/profile.js';
import { MpyCompileError, RomfsFormatError } from './errors.js';
import { parseRomfs } from './parse.js';
import { scanRomfs, type ScannedFile } from './scan.js';
import { firmwareView, firmwareOpen, type FirmwareEntry, type FirmwareFileData } from './firmwareView.js';
import { mountVfsRom } from './vfsRom.js';
import { fileKind } from './fileKind.js';
import { isModelFile, isModelName, misalignedModelData, modelFormatOf, modelFormatProblem } from './models.js';
import { achievedAlignment } from './inspect.js';
import { mpyLoadProblem } from './mpyHeader.js';
import { isEntryScript } from './entryScripts.js';
import { cachedCompiler, wasmMpyCross, type MpyCompiler } from './mpyCross.js';
import { defaultCacheDir } from './cacheDir.js';

export interface VerifyProblem {
  severity: 'error' | 'warning';
  /** File inside the image ('' for the image as a whole). */
  path: string;
  message: string;
}

export interface VerifyOptions {
  /** Partition size to enforce (error when exceeded); default: the profile's, as a warning. */
  partitionSize?: number;
  /** Address of the partition's first byte on the board (default: the profile's origin). */
  origin?: number;
  /** Compiler for the `.py` syntax check (default: the WebAssembly mpy-cross, cached by content); false to skip. */
  compiler?: MpyCompiler | false;
}

/** A file the firmware opens, with its bytes as the firmware reads them. */
interface OpenedFile {
  path: string;
  data: FirmwareFileData;
  bytes?: Uint8Array;
}

const opened = (o: FirmwareEntry['open']): o is FirmwareFileData => !!o && 'offset' in o;

/** Everything but the compile step (synchronous). */
export function verifyStructure(bytes: Uint8Array, profile: BoardProfile, opts: VerifyOptions = {}): VerifyProblem[] {
  const problems: VerifyProblem[] = [];
  const err = (path: string, message: string) => problems.push({ severity: 'error', path, message });
  const warn = (path: string, message: string) => problems.push({ severity: 'warning', path, message });
  const explicit = opts.partitionSize !== undefined;
  const partition = opts.partitionSize ?? profile.partition.size;
  const origin = opts.origin ?? profile.partition.origin;

  let strictError: string | undefined;
  let imageLength: number | undefined;
  try {
    imageLength = parseRomfs(bytes).imageLength;
  } catch (e) {
    if (!(e instanceof RomfsFormatError)) throw e;
    strictError = `not a valid ROMFS image: ${e.message}`;
  }
  // The board: the image at the start of its partition, erased flash (0xff) after it.
  const fwOpts = { bufferLength: Math.max(partition, bytes.length) };
  const view = firmwareView(bytes, fwOpts);
  if (view.mount !== 'ok') {
    err('', `${strictError ?? 'not a valid ROMFS image'}; the firmware does not mount it (${view.mount.error})`);
    return problems;
  }
  if (strictError) err('', strictError);
  const vfs = mountVfsRom(bytes, fwOpts);
  const scan = scanRomfs(bytes);
  // Where the image ends: by the strict parse, else as the firmware reads the header (32-bit).
  imageLength ??= vfs.payload.offset + vfs.payload.length;

  // What the records hold vs what the firmware reads.
  // The firmware's entries by type and path (the first of duplicates: the one a search finds).
  const key = (type: string, display: string) => `${type}:${display}`;
  const listed = new Map<string, FirmwareEntry>();
  for (const e of view.entries) if (!listed.has(key(e.type, e.display))) listed.set(key(e.type, e.display), e);
  if (view.root !== 'complete') err('', `the firmware's listing of the root ${view.root === 'endless' ? 'never ends' : `fails (${view.root?.error})`}`);
  const scanned = new Set<string>();
  for (const s of scan.entries) {
    scanned.add(key(s.type, s.display));
    const l = listed.get(key(s.type, s.display));
    if (s.type === 'dir') {
      if (!l) err(s.display, named(s.display, `the firmware does not list this directory (${whyUnlisted(s.display, scan.damage)})`));
      else if (l.listing !== 'complete') err(s.display, `the firmware's listing of this directory ${l.listing === 'endless' ? 'never ends' : `fails (${l.listing?.error})`}`);
      continue;
    }
    checkFile(s, l, firmwareOpen(vfs, s.path), scan.payloadStart, imageLength, (p, m) => err(p, named(p, m)));
  }
  for (const e of view.entries) {
    if (!scanned.has(key(e.type, e.display))) err(e.display, `the firmware lists this ${e.type === 'dir' ? 'directory' : 'file'}, but no record of the image holds it (read from bytes past the records)`);
  }
  for (const n of view.notStr) err(n, 'the name is not valid UTF-8: os.listdir on the board raises UnicodeError for its directory');
  for (const e of view.entries) {
    const why = nameProblem(e.name);
    if (why) err(e.display, named(e.display, `the name ${why}: the firmware resolves a path to it elsewhere`));
  }

  // Per file the firmware opens: what the board does with its bytes.
  const files: OpenedFile[] = [];
  for (const e of view.entries) {
    if (e.type !== 'file' || !opened(e.open)) continue;
    const f: OpenedFile = { path: e.display, data: e.open };
    if (!e.open.outside) f.bytes = vfs.read(e.open.offset, e.open.length);
    files.push(f);
  }
  const misaligned = new Map(misalignedModelData(files.map((f) => ({ path: f.path, offset: f.data.offset, data: f.bytes })), profile, origin).map((m) => [m.path, m]));
  for (const f of files) {
    const data = f.bytes ?? new Uint8Array(0);
    const m = misaligned.get(f.path);
    if (m) {
      const at = origin % m.align === 0 ? `offset ${m.offset}` : `offset ${m.offset} (address 0x${m.address.toString(16)}: partition origin 0x${origin.toString(16)} + offset)`;
      err(f.path, `model data at ${at} is aligned to ${achievedAlignment(m.address)} bytes; ${profile.name} requires ${m.align}`);
    }
    if (isModelFile(profile, f.path, data)) {
      const why = modelFormatProblem(profile, data);
      if (why) err(f.path, `the model is ${why}`);
      else if (modelFormatOf(data) === undefined && isModelName(profile.models, f.path)) {
        warn(f.path, `named like a model but holds none (no TFL3 at byte 4, no NBIN at byte 0)`);
      }
    }
    if (f.path.endsWith('.mpy')) {
      const k = fileKind(f.path, data);
      if (!k.mpy) err(f.path, 'not an .mpy file (no valid header)');
      else {
        const why = mpyLoadProblem(k.mpy, profile.mpy);
        if (why) err(f.path, `${why} (${profile.name} loads .mpy v${profile.mpy.version}, ${profile.mpy.arch})`);
      }
    }
    // boot.py and main.py are run by name as source (build.ts ENTRY_SCRIPTS): shipping them so is right.
    if (f.path.endsWith('.py') && !isEntryScript(f.path)) warn(f.path, 'uncompiled .py source (build without --keep-py to ship .mpy)');
    if (f.data.length === 0) warn(f.path, 'empty file');
    // A compiled entry script at the top of the image: the firmware looks for boot.py and main.py
    // by name and never runs a .mpy in their place (entryScripts.ts, ports/stm32/boardctrl.c).
    const entry = compiledEntryScript(f.path);
    if (entry) warn(f.path, `the firmware runs ${entry} by name at start-up and never runs ${f.path}; ship it as ${entry} (hil image build does)`);
  }

  // The image as a whole.
  if (!view.entries.some((e) => e.type === 'file')) {
    if (!scan.entries.some((e) => e.type === 'file')) warn('', 'the image holds no files');
  }
  const tail = bytes.subarray(Math.min(imageLength, bytes.length));
  let dirty = 0;
  for (const b of tail) if (b !== 0xff) dirty++;
  if (dirty > 0) {
    const what = `${dirty} byte${dirty > 1 ? 's' : ''} after the image's end (byte ${imageLength}) ${dirty > 1 ? 'are' : 'is'} not erased flash (0xff)`;
    if (!view.entries.some((e) => e.type === 'file')) err('', `${what}, and the image itself is empty: a corrupted header length? The firmware sees no files`);
    else warn('', `${what}; the firmware ignores them`);
  }
  if (imageLength > partition) {
    problems.push({
      severity: explicit ? 'error' : 'warning',
      path: '',
      message: `image is ${imageLength} bytes, ${explicit ? 'partition size' : `${profile.name}'s nominal partition`} is ${partition}${explicit ? '' : ' (flash checks the size the board reports)'}`,
    });
  }
  return problems;
}

/** `boot.mpy` / `main.mpy` at the image's top: the source name the firmware would have run, else undefined. */
function compiledEntryScript(path: string): string | undefined {
  if (path.includes('/') || !path.endsWith('.mpy')) return undefined;
  const source = `${path.slice(0, -'.mpy'.length)}.py`;
  return isEntryScript(source) ? source : undefined;
}

/** Names a path cannot reach as written: '/' inside, a NUL (paths are C strings), '.' and '..', empty. */
function nameProblem(name: Uint8Array): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.includes(0x2f)) return "contains '/'";
  if (name.includes(0)) return 'contains a NUL byte';
  if ((name.length === 1 && name[0] === 0x2e) || (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e)) return `is '${'.'.repeat(name.length)}'`;
  return undefined;
}

/** A name that is empty (the path is '' or ends in '/') cannot be told from its directory: say so. */
function named(path: string, message: string): string {
  return path === '' || path.endsWith('/') ? `an entry with an empty name: ${message}` : message;
}

function whyUnlisted(path: string, damage: { at: number; in: string; message: string }[]): string {
  const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  const d = damage.find((x) => x.in === parent);
  return `os.listdir('/rom${parent ? `/${parent}` : ''}') stops before it${d ? `: ${d.message} at byte ${d.at}` : ''}`;
}

function checkFile(
  s: ScannedFile,
  l: FirmwareEntry | undefined,
  fw: FirmwareFileData | { error: string },
  payloadStart: number,
  imageLength: number,
  err: (path: string, message: string) => void,
): void {
  const first = s.data[0];
  if (!('offset' in fw)) {
    const why = fw.error === 'EISDIR'
      ? 'its path resolves to a directory'
      : s.data.length === 0
      ? 'it has no data record'
      : s.kind0BeforeData
        ? 'a kind-0 record comes before its data'
        : l
          ? 'its path resolves to something else'
          : 'the search does not reach it';
    err(s.display, `the firmware cannot open this file (${fw.error}): ${why}${l ? '' : '; it is not listed either'}`);
    return;
  }
  if (!l) err(s.display, `the firmware does not list this file (os.listdir of its directory stops before it), though open() reaches it`);
  if (!first) {
    err(s.display, `the firmware opens ${fw.length} bytes at offset ${fw.offset} for this path, but this file record has no data record`);
    return;
  }
  if (first.offset !== fw.offset || first.size !== fw.length) {
    err(s.display, `the firmware reads ${fw.length} bytes at offset ${fw.offset}; the file's record holds ${first.size} bytes at offset ${first.offset}${first.size >= 2 ** 32 || first.offset >= 2 ** 32 ? ' (a 32-bit board keeps only the low 32 bits)' : ''}`);
  } else if (first.kind === 'indirect' && (first.offset < payloadStart || first.offset + first.size > imageLength)) {
    err(s.display, `indirect data (${first.size} bytes at offset ${first.offset}) lies outside the image's records (${payloadStart}..${imageLength}): the firmware reads whatever is there`);
  }
  if (s.data.length > 1) err(s.display, `the file has ${s.data.length} data records; the firmware reads only the first (${first.size} bytes at offset ${first.offset})`);
}

/** The full gate: verifyStructure, then every `.py` the firmware can open compiled with mpy-cross (a syntax error names file and line). */
export async function verifyImage(bytes: Uint8Array, profile: BoardProfile, opts: VerifyOptions = {}): Promise<VerifyProblem[]> {
  const problems = verifyStructure(bytes, profile, opts);
  if (opts.compiler === false) return problems;
  const view = firmwareView(bytes, { bufferLength: Math.max(opts.partitionSize ?? profile.partition.size, bytes.length) });
  const py = view.entries.filter((e) => e.type === 'file' && e.display.endsWith('.py') && opened(e.open) && !e.open.outside);
  if (py.length === 0) return problems;
  const compiler = opts.compiler ?? cachedCompiler(wasmMpyCross(), defaultCacheDir());
  const vfs = mountVfsRom(bytes, { bufferLength: Math.max(opts.partitionSize ?? profile.partition.size, bytes.length) });
  for (const e of py) {
    const o = e.open as FirmwareFileData;
    try {
      await compiler.compile(vfs.read(o.offset, o.length), e.display, e.display);
    } catch (x) {
      if (!(x instanceof MpyCompileError)) throw x;
      const rest = (x.message.startsWith(`${e.display}:`) ? x.message.slice(e.display.length + 1) : x.message).trim();
      const m = /^(\d+):\s*(.*)$/.exec(rest);
      problems.push({ severity: 'error', path: e.display, message: `does not compile: ${m ? `line ${m[1]}: ${m[2]}` : rest}` });
    }
  }
  return problems;
}

export function formatProblem(p: VerifyProblem, image: string): string {
  return `${p.severity}: ${p.path ? `${image}:/${p.path}` : image}: ${p.message}`;
}
