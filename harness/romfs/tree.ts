/**
 * The tree that goes into an image: directories and files, each file with its source (a file on
 * disk, read straight into the image, or bytes in memory such as a compiled .mpy) and alignment.
 * `readSourceTree` builds it from a directory: sorted by name (byte order), dotfiles skipped,
 * names checked (printable ASCII, no '/'), symlinks followed.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RomfsBuildError } from './errors.js';

export interface TreeFile {
  type: 'file';
  name: string;
  /** Path inside the image, no leading slash. */
  path: string;
  /** File on disk the bytes come from (also used in error messages). */
  source: string;
  size: number;
  /** Bytes in memory (compiled .mpy); when absent the bytes are read from `source`. */
  data?: Uint8Array;
  /** Stat fingerprint for the build cache. */
  stamp: string;
  align: number;
}

export interface TreeDir {
  type: 'dir';
  name: string;
  path: string;
  children: TreeNode[];
}

export type TreeNode = TreeFile | TreeDir;

/** Check a name the way the firmware and the strict parser will see it. */
export function checkName(name: string, where: string): void {
  if (!name || name === '.' || name === '..' || name.includes('/')) throw new RomfsBuildError(`${where}: invalid name '${name}'`, where);
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new RomfsBuildError(`${where}: name has a non-ASCII character (ROMFS names are printable ASCII)`, where);
  }
}

/**
 * What the image cache compares to know a file is unchanged: size, mtime, inode and ctime. The
 * ctime matters: a file rewritten in place with the same size and its mtime put back (utimes,
 * `touch -r`, an editor or copy tool that preserves it) keeps the other three, but every write and
 * every utimes moves ctime, which no process can set back.
 */
export function statStamp(st: { size: number | bigint; mtimeNs?: bigint; mtimeMs: number | bigint; ctimeNs?: bigint; ctimeMs: number | bigint; ino: number | bigint }): string {
  return `${st.size}:${st.mtimeNs ?? st.mtimeMs}:${st.ino}:${st.ctimeNs ?? st.ctimeMs}`;
}

/** Read `dir` recursively. `alignOf(path)` gives each file's alignment. */
export function readSourceTree(dir: string, alignOf: (path: string) => number): TreeDir {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new RomfsBuildError(`${dir}: no such directory`, dir);
  }
  if (!st.isDirectory()) throw new RomfsBuildError(`${dir}: not a directory`, dir);
  const walk = (abs: string, prefix: string, depth: number): TreeNode[] => {
    if (depth > 32) throw new RomfsBuildError(`${abs}: directories nested deeper than 32 (symlink loop?)`, abs);
    let names: string[];
    try {
      names = readdirSync(abs);
    } catch (e) {
      throw new RomfsBuildError(`${abs}: cannot read directory (${(e as NodeJS.ErrnoException).code ?? e})`, abs);
    }
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const out: TreeNode[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const src = join(abs, name);
      checkName(name, src);
      let s;
      try {
        s = statSync(src, { bigint: true });
      } catch {
        throw new RomfsBuildError(`${src}: cannot stat (dangling symlink?)`, src);
      }
      const path = prefix + name;
      if (s.isDirectory()) out.push({ type: 'dir', name, path, children: walk(src, `${path}/`, depth + 1) });
      else if (s.isFile()) out.push({ type: 'file', name, path, source: src, size: Number(s.size), stamp: statStamp(s), align: alignOf(path) });
      else throw new RomfsBuildError(`${src}: not a regular file or directory`, src);
    }
    return out;
  };
  return { type: 'dir', name: '', path: '', children: walk(dir, '', 0) };
}

/** Every file in the tree, depth-first. */
export function treeFiles(root: TreeDir): TreeFile[] {
  const out: TreeFile[] = [];
  const visit = (n: TreeNode): void => {
    if (n.type === 'file') out.push(n);
    else n.children.forEach(visit);
  };
  root.children.forEach(visit);
  return out;
}
