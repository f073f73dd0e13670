/**
 * listing: the recursive `/rom` listing on the board equals what the firmware should list for the
 * image: every directory, every file with its size and a sha256 computed on the board. One round
 * trip (harness/board/scenario/listing.py). Names travel as bytes: a name that is not UTF-8, an
 * entry that cannot be opened or read, is a finding naming that entry (never an error of hil's).
 */
import type { CheckContext, ImageFile } from '../context.js';
import type { ListingOptions } from '../definition.js';
import { runProbe, scenarioProgram } from '../probe.js';
import type { CheckResult } from '../result.js';

export function listingProbe(opts: ListingOptions, root = '/rom'): string {
  return scenarioProgram('listing', { root, sha256: opts.sha256 });
}

/** What listing.py answers per entry: [name as hex, size (-1 for a directory), sha256, error]. */
export type RawListingEntry = [nameHex: string, size: number, sha256: string | null, error: string | null];

export interface BoardEntry {
  /** The path under /rom (directories end in `/`); bytes that are not UTF-8 shown as `\xNN`. */
  path: string;
  /** False when the name's bytes are not UTF-8. */
  utf8: boolean;
  size: number;
  sha256: string | null;
  error: string | null;
}

/** A name's bytes for messages: UTF-8 text when it is, else printable ASCII with `\xNN` escapes. */
export function showName(b: Uint8Array): { text: string; utf8: boolean } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(b), utf8: true };
  } catch {
    let text = '';
    for (const c of b) text += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
    return { text, utf8: false };
  }
}

export function decodeListing(raw: readonly RawListingEntry[]): BoardEntry[] {
  return raw.map(([hex, size, sha256, error]) => {
    const { text, utf8 } = showName(Buffer.from(hex, 'hex'));
    return { path: text, utf8, size, sha256, error };
  });
}

/** The image as the firmware should list it: directories (ending in `/`) and files, in order. */
export interface ExpectedEntry {
  path: string;
  dir: boolean;
  size: number;
  sha256?: string;
}

export function expectedListing(ctx: Pick<CheckContext, 'image'>): ExpectedEntry[] {
  const files = new Map<string, ImageFile>(ctx.image.files.map((f) => [f.path, f]));
  return ctx.image.entries.map((e) => {
    if (e.type === 'dir') return { path: e.path, dir: true, size: -1 };
    const f = files.get(e.path);
    return { path: e.path, dir: false, size: e.size, sha256: f?.sha256 };
  });
}

/** Differences between the expected listing and the board's, one line each naming the entry. */
export function diffListing(want: readonly ExpectedEntry[], board: readonly BoardEntry[], withSha: boolean): string[] {
  const got = new Map(board.map((b) => [b.path, b]));
  const out: string[] = [];
  for (const b of board) {
    if (!b.utf8) out.push(`${b.path}: name is not UTF-8 (os.listdir of its folder raises UnicodeError on the board)`);
    if (b.error) out.push(`${b.path}: ${b.error} on the board`);
  }
  const wanted = new Set<string>();
  for (const w of want) {
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
