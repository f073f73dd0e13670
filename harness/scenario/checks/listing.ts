/**
 * listing: the recursive `/rom` listing on the board equals the image's contents: every directory,
 * every file with its size and a sha256 computed on the board. One round trip.
 */
import type { CheckContext, ImageFile } from '../context.js';
import type { ListingOptions } from '../definition.js';
import { PY_PRELUDE, pyEmit, runProbe } from '../probe.js';
import type { CheckResult } from '../result.js';

export function listingProbe(opts: ListingOptions, root = '/rom'): string {
  return `${PY_PRELUDE}import os
try:
    import hashlib, binascii
except ImportError:
    hashlib = None
def _hil_sha(full):
    d = hashlib.sha256()
    with open(full, 'rb') as f:
        try:
            mv = memoryview(f)
        except TypeError:
            mv = None
        if mv is not None:
            d.update(mv)
        else:
            while True:
                b = f.read(4096)
                if not b:
                    break
                d.update(b)
    return binascii.hexlify(d.digest()).decode()
def _hil_ls(top, pre, out, want):
    for e in os.ilistdir(top):
        n = e[0]
        full = top + '/' + n
        if e[1] & 0x4000:
            out.append([pre + n + '/', -1, None])
            _hil_ls(full, pre + n + '/', out, want)
        else:
            out.append([pre + n, os.stat(full)[6], _hil_sha(full) if want else None])
def _hil_listing():
    want = ${opts.sha256 ? 'True' : 'False'}
    if want and hashlib is None:
        return {'error': 'no hashlib on this firmware: sha256 cannot be computed on the board'}
    out = []
    try:
        _hil_ls(${JSON.stringify(root)}, '', out, want)
    except OSError as e:
        return {'error': '${root} cannot be listed: OSError %s' % (e.args[0] if e.args else '?'), 'tb': _hil_tb(e)}
    return {'entries': out}
${pyEmit('_hil_listing()')}
`;
}

export type BoardListing = [path: string, size: number, sha256: string | null][];

/** Differences between the image and the board's listing, one line each (empty when they agree). */
export function diffListing(dirs: string[], files: ImageFile[], board: BoardListing, withSha: boolean): string[] {
  const got = new Map(board.map(([p, size, sha]) => [p, { size, sha }]));
  const out: string[] = [];
  const want = new Set<string>();
  for (const d of dirs) {
    want.add(d);
    const g = got.get(d);
    if (!g) out.push(`${d}: directory missing on the board`);
    else if (g.size !== -1) out.push(`${d}: is a file on the board, a directory in the image`);
  }
  for (const f of files) {
    want.add(f.path);
    const g = got.get(f.path);
    if (!g) out.push(`${f.path}: missing on the board (image has ${f.size} bytes)`);
    else if (g.size === -1) out.push(`${f.path}: is a directory on the board, a file in the image`);
    else if (g.size !== f.size) out.push(`${f.path}: ${g.size} bytes on the board, ${f.size} in the image`);
    else if (withSha && g.sha !== f.sha256) out.push(`${f.path}: sha256 on the board ${g.sha?.slice(0, 16)}…, image ${f.sha256.slice(0, 16)}…`);
  }
  for (const [p, g] of got) if (!want.has(p)) out.push(`${p}: on the board (${g.size < 0 ? 'directory' : `${g.size} bytes`}) but not in the image`);
  return out;
}

export async function listingCheck(ctx: CheckContext, opts: ListingOptions): Promise<CheckResult> {
  const t0 = performance.now();
  const { value } = await runProbe<{ entries?: BoardListing; error?: string; tb?: string }>(ctx.device, listingProbe(opts), 'listing', ctx.timeoutMs);
  const durationMs = performance.now() - t0;
  if (!value.entries) {
    return { name: 'listing', status: 'failed', reason: value.error ?? 'no listing', durationMs, details: value.tb ? [value.tb.trimEnd()] : [] };
  }
  const dirs = ctx.image.entries.filter((e) => e.type === 'dir').map((e) => e.path);
  const diffs = diffListing(dirs, ctx.image.files, value.entries, opts.sha256);
  const nFiles = ctx.image.files.length;
  const data = { files: nFiles, dirs: dirs.length, board: value.entries.length, sha256: opts.sha256 };
  if (diffs.length > 0) {
    return {
      name: 'listing', status: 'failed', durationMs, details: diffs, data,
      reason: `/rom differs from the image in ${diffs.length} place${diffs.length > 1 ? 's' : ''}: ${diffs[0]}`,
    };
  }
  return {
    name: 'listing', status: 'passed', durationMs, data,
    details: [`${nFiles} files and ${dirs.length} directories match${opts.sha256 ? ' (names, sizes, sha256 computed on the board)' : ' (names, sizes)'}`],
  };
}
