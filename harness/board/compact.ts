/**
 * A board program as sent: the same tokens in fewer bytes. The raw REPL's raw-paste mode lets
 * the host send two windows (2 x 128 bytes on most ports) before the board must answer, so
 * every 128 bytes of a program cost one round trip over the link; comments, blank lines and
 * four-space indentation are most of a board program's bytes.
 *
 * Dropped: comment lines, blank lines, comments after code, trailing blanks. Indentation becomes
 * one space per block level (Python only compares indentation within a block). Lines inside
 * brackets or after a backslash (continuations) lose their leading blanks, which Python ignores
 * there. A source this cannot read safely (tabs, triple-quoted or backslash-continued strings,
 * indentation that does not return to an enclosing level) is sent as it is.
 */

import { TextCache } from './textCache.js';

/** Where a line's code ends (a `#` outside strings), how brackets change, and whether it continues with `\`. */
function scan(line: string, depth: number): { code: string; depth: number; backslash: boolean } | null {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#') return { code: line.slice(0, i).trimEnd(), depth, backslash: false };
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
  }
  // A string still open at the end of a line (only a backslash-continued one is legal): give up.
  if (quote) return null;
  const code = line.trimEnd();
  return { code, depth, backslash: code.endsWith('\\') };
}

/** Compacted sources by source text (textCache.ts): each board program compacted once per process. */
export class CompactCache extends TextCache<string> {
  constructor(max = 256) {
    super(compactSource, max);
  }

  compact(source: string): string {
    return this.get(source);
  }
}

/** The cache behind compactPython (a pure function's results: what it holds changes no answer). */
const shared = new CompactCache();

/** `source` compacted (see the top of this file), each distinct text once per process. */
export function compactPython(source: string): string {
  return shared.compact(source);
}

function compactSource(source: string): string {
  if (/\t|'''|"""/.test(source)) return source;
  const out: string[] = [];
  const levels = [0];
  let depth = 0;
  let continued = false;
  for (const raw of source.split('\n')) {
    const text = raw.trim();
    const inside = depth > 0 || continued;
    if (!inside && (text === '' || text.startsWith('#'))) continue;
    const s = scan(raw, depth);
    if (!s || s.depth < 0) return source;
    if (inside) {
      const t = s.code.trimStart();
      if (t !== '') out.push(t);
    } else {
      const width = raw.length - raw.trimStart().length;
      if (width > levels[levels.length - 1]!) levels.push(width);
      else while (width < levels[levels.length - 1]!) levels.pop();
      if (width !== levels[levels.length - 1]) return source;
      out.push(' '.repeat(levels.length - 1) + s.code.trimStart());
    }
    depth = s.depth;
    continued = s.backslash;
  }
  if (depth !== 0 || continued) return source;
  return out.join('\n') + '\n';
}
