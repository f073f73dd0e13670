/**
 * listing: the recursive `/rom` listing on the board equals what the firmware should list for the
 * image: every directory, every file with its size and a sha256 computed on the board. One round
 * trip (harness/board/scenario/listing.py). Names travel as bytes: a name that is not UTF-8, an
 * entry that cannot be opened or read, is a finding naming that entry (never an error of hil's).
 */
import type { CheckContext } from '../context.js';
import { displayPath } from '../../romfs/firmwareView.js';
import { isMicroPythonStr } from '../../romfs/vfsRom.js';
import type { ListingOptions } from '../definition.js';
import { runProbe, scenarioProgram } from '../probe.js';
import type { CheckResult } from '../result.js';

export function listingProbe(opts: ListingOptions, root = '/rom'): string {
  return scenarioProgram('listing', { root, sha256: opts.sha256 });
}

/** What listing.py answers per entry: [name as hex, size (-1 for a directory), sha256, error]. */
export type RawListingEntry = [nameHex: string, size: number, sha256: string | null, error: string | null];

export interface BoardEntry {
  /** The path under /rom (directories end in `/`); a path that is not UTF-8 as `hex:` + its bytes. */
  path: string;
  /** False when the name's bytes are not UTF-8. */
  utf8: boolean;
  size: number;
  sha256: string | null;
  error: string | null;
}

export function decodeListing(raw: readonly RawListingEntry[]): BoardEntry[] {
  return raw.map(([hex, size, sha256, error]) => {
    const b = Buffer.from(hex, 'hex');
    const dir = size === -1 && b.length > 0 && b[b.length - 1] === 0x2f;
    const bare = dir ? b.subarray(0, -1) : b;
    return { path: dir ? `${displayPath(bare)}/` : displayPath(bare), utf8: isMicroPythonStr(bare), size, sha256, error };
  });
}

/** The image as the firmware lists it: directories (ending in `/`) and files, in listing order. */
export interface ExpectedEntry {
  path: string;
  dir: boolean;
  size: number;
  sha256?: string;
  /** Why the firmware cannot list, open or read this entry (a finding about the image). */
  problem?: string;
}

/**
 * What the listing should show: the firmware's view of the image (harness/romfs firmwareView:
 * every entry a board's /rom lists, in listing order, each file as open() gives it), computed
 * once per image (resolveImage.ts).
 */
export function expectedListing(ctx: { image: Pick<CheckContext['image'], 'firmware' | 'entries'> }): ExpectedEntry[] {
  const view = ctx.image.firmware;
  if (view.mount !== 'ok') return [{ path: '/', dir: true, size: -1, problem: `the firmware cannot mount the image (${view.mount.error})` }];
  const out: ExpectedEntry[] = [];
  if (view.root !== 'complete' && view.root !== undefined) out.push({ path: '/', dir: true, size: -1, problem: `the firmware cannot list /rom (${typeof view.root === 'string' ? view.root : view.root.error})` });
  for (const e of view.entries) {
    if (e.type === 'dir') {
      const l = e.listing;
      const problem = l === undefined || l === 'complete' ? undefined : `the firmware cannot list this directory (${typeof l === 'string' ? l : l.error})`;
      out.push({ path: `${e.display}/`, dir: true, size: -1, ...(problem ? { problem } : {}) });
      continue;
    }
    const o = e.open;
    if (!o || 'error' in o) out.push({ path: e.display, dir: false, size: e.listedSize, problem: `the firmware lists this file but cannot open it (${o ? o.error : 'not opened'})` });
    else if (o.outside) out.push({ path: e.display, dir: false, size: o.size, problem: 'its data lies outside the image' });
    else out.push({ path: e.display, dir: false, size: o.size, sha256: o.sha256 });
  }
  if (view.truncated) out.push({ path: '/', dir: true, size: -1, problem: 'the listing does not end (too many entries)' });
  // What the image's records hold but the firmware never lists (its listing stops at a record
  // it cannot use): the application cannot reach it.
  const listed = new Set(out.map((e) => e.path));
  for (const e of ctx.image.entries) {
    if (!listed.has(e.path)) out.push({ path: '/', dir: true, size: -1, problem: `${e.path}: in the image's records, but the firmware does not list it (its folder's listing stops before it)` });
  }
  return out;
}

/** Differences between the expected listing and the board's, one line each naming the entry. */
export function diffListing(want: readonly ExpectedEntry[], board: readonly BoardEntry[], withSha: boolean): string[] {
  const got = new Map(board.map((b) => [b.path, b]));
  const out: string[] = [];
  for (const b of board) {
    if (!b.utf8) out.push(`${b.path}: name is not UTF-8 (os.listdir of its folder raises UnicodeError on the board)`);
    if (b.error) out.push(`${b.path}: ${b.error} on the board`);
  }
  for (const w of want) if (w.problem) out.push(w.path === '/' && /^\S+: /.test(w.problem) ? w.problem : `${w.path}: ${w.problem}`);
  const wanted = new Set<string>();
  for (const w of want) {
    if (w.path === '/') continue;
    wanted.add(w.path);
    const g = got.get(w.path);
    if (w.dir) {
      if (!g) out.push(`${w.path}: directory missing on the board`);
      else if (g.size !== -1) out.push(`${w.path}: is a file on the board, a directory in the image`);
      continue;
    }
    if (!g) out.push(`${w.path}: missing on the board (image has ${w.size} bytes)`);
    else if (g.size === -1) out.push(`${w.path}: is a directory on the board, a file in the image`);
    else if (g.error) continue; // already reported
    else if (g.size !== w.size) out.push(`${w.path}: ${g.size} bytes on the board, ${w.size} in the image`);
    else if (withSha && g.sha256 !== w.sha256) out.push(`${w.path}: sha256 on the board ${g.sha256?.slice(0, 16)}…, image ${w.sha256?.slice(0, 16)}…`);
  }
  for (const b of board) if (!wanted.has(b.path)) out.push(`${b.path}: on the board (${b.size < 0 ? 'directory' : `${b.size} bytes`}) but not in the image`);
  return out;
}

export async function listingCheck(ctx: CheckContext, opts: ListingOptions): Promise<CheckResult> {
  const t0 = performance.now();
  const { value } = await runProbe<{ entries?: RawListingEntry[]; error?: string; tb?: string }>(ctx.device, listingProbe(opts), 'listing', ctx.timeoutMs);
  const durationMs = performance.now() - t0;
  if (!value.entries) {
    return { name: 'listing', status: 'failed', reason: value.error ?? 'no listing', durationMs, details: value.tb ? [value.tb.trimEnd()] : [] };
  }
  const board = decodeListing(value.entries);
  const want = expectedListing(ctx);
  const diffs = diffListing(want, board, opts.sha256);
  const nFiles = want.filter((w) => !w.dir).length;
  const nDirs = want.length - nFiles;
  const data = { files: nFiles, dirs: nDirs, board: board.length, sha256: opts.sha256 };
  if (diffs.length > 0) {
    return {
      name: 'listing', status: 'failed', durationMs, details: diffs, data,
      reason: `/rom differs from the image in ${diffs.length} place${diffs.length > 1 ? 's' : ''}: ${diffs[0]}`,
    };
  }
  return {
    name: 'listing', status: 'passed', durationMs, data,
    details: [`${nFiles} files and ${nDirs} directories match${opts.sha256 ? ' (names, sizes, sha256 computed on the board)' : ' (names, sizes)'}`],
  };
}
