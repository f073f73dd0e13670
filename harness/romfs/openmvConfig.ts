/**
 * OpenMV's `romfs_config.json`: `{ "<partition>": { "size": "0x...", "entries": [ { "type",
 * "path", "alignment"?, "enabled"? } ] } }`. Paths use `{TOP}` and `{BUILD}` (and any variable
 * given); a path may be a glob. Each `tflite` entry gets its `<model>.txt` labels file added right
 * after it when one exists. Entry alignment is the entry's `alignment` (default 4, as mkromfs),
 * raised to the board's rule when that is stricter. The image is flat: files go in /rom by basename.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { minimatch } from 'minimatch';
import { ConfigError } from '../errors.js';
import { checkName, statStamp, type TreeDir, type TreeFile } from './tree.js';

export interface RomfsConfigPartition {
  id: string;
  size?: number;
  files: TreeFile[];
}

const GLOB_CHARS = /[*?[\]{}]/;

function expandGlob(pattern: string): string[] {
  const parts = pattern.split(/[\\/]/);
  const first = parts.findIndex((p) => GLOB_CHARS.test(p));
  const base = parts.slice(0, first).join('/') || (pattern.startsWith('/') ? '/' : '.');
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 32) return;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      let st;
      try {
        st = statSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p, depth + 1);
      else if (st.isFile() && minimatch(p.split(sep).join('/'), pattern.split(sep).join('/'), { dot: false })) out.push(p);
    }
  };
  walk(base, 0);
  return out.sort();
}

function substitute(path: string, vars: Record<string, string>, where: string): string {
  return path.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new ConfigError(`${where}: unknown variable {${name}} (known: ${Object.keys(vars).map((k) => `{${k}}`).join(', ')})`);
    return v;
  });
}

/**
 * Read one partition of a config. `alignOf(name)` is the board rule for a file name (entry
 * alignment wins when stricter). Default variables: TOP = the config's folder, BUILD = TOP/build.
 */
export function readRomfsConfig(
  configFile: string,
  opts: { partition?: string | number; vars?: Record<string, string>; alignOf?: (name: string) => number } = {},
): RomfsConfigPartition {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(configFile, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(code ? `${configFile}: cannot read (${code})` : `${configFile}: not valid JSON: ${(e as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${configFile}: must be a JSON object of partitions`);
  const parts = raw as Record<string, unknown>;
  const ids = Object.keys(parts);
  if (ids.length === 0) throw new ConfigError(`${configFile}: no partitions`);
  const id = opts.partition === undefined ? ids[0]! : String(opts.partition);
  const part = parts[id] as Record<string, unknown> | undefined;
  if (!part) throw new ConfigError(`${configFile}: no partition '${id}' (has ${ids.join(', ')})`);
  if (typeof part !== 'object') throw new ConfigError(`${configFile}: partition '${id}' must be an object`);
  let size: number | undefined;
  if (part.size !== undefined) {
    const s = part.size;
    size = typeof s === 'number' ? s : typeof s === 'string' ? Number(/^0x/i.test(s) ? s : `0x${s}`) : NaN;
    if (!Number.isInteger(size) || size! <= 0) throw new ConfigError(`${configFile}: field '${id}.size' must be a hex size like "0x100000" (got ${JSON.stringify(s)})`);
  }
  if (!Array.isArray(part.entries)) throw new ConfigError(`${configFile}: field '${id}.entries' must be a list`);
  const top = dirname(resolve(configFile));
  const vars: Record<string, string> = { TOP: top, BUILD: join(top, 'build'), ...(opts.vars ?? {}) };
  const files: TreeFile[] = [];
  const seen = new Map<string, string>();
  const add = (path: string, align: number, where: string): void => {
    const name = basename(path);
    checkName(name, where);
    const prev = seen.get(name);
    if (prev !== undefined) {
      if (resolve(prev) === resolve(path)) return; // a labels file also listed explicitly
      throw new ConfigError(`${where}: '${name}' is already in the image from ${prev} (the image is flat)`);
    }
    let st;
    try {
      st = statSync(path, { bigint: true });
    } catch {
      throw new ConfigError(`${where}: ${path}: no such file`);
    }
    if (!st.isFile()) throw new ConfigError(`${where}: ${path}: not a regular file`);
    seen.set(name, path);
    const rule = opts.alignOf ? opts.alignOf(name) : 1;
    files.push({ type: 'file', name, path: name, source: path, size: Number(st.size), stamp: statStamp(st), align: Math.max(align, rule) });
  };
  part.entries.forEach((e: unknown, i: number) => {
    const where = `${configFile}: entry ${id}.entries[${i}]`;
    if (!e || typeof e !== 'object') throw new ConfigError(`${where} must be an object`);
    const entry = e as Record<string, unknown>;
    if (entry.enabled === false) return;
    if (typeof entry.path !== 'string' || !entry.path) throw new ConfigError(`${where}: field 'path' must be a string`);
    const type = entry.type ?? 'data';
    if (typeof type !== 'string') throw new ConfigError(`${where}: field 'type' must be a string`);
    if (type === 'haar') throw new ConfigError(`${where}: type 'haar' needs OpenMV's cascade converter; convert it and list the .cascade file as type 'data'`);
    let align = 4;
    if (entry.alignment !== undefined) {
      const a = entry.alignment;
      if (typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a > 4096 || (a !== 0 && (a & (a - 1)) !== 0)) {
        throw new ConfigError(`${where}: field 'alignment' must be a power of two up to 4096 (got ${JSON.stringify(a)})`);
      }
      align = Math.max(1, a);
    }
    const path = substitute(entry.path, vars, `${where}: field 'path'`);
    const paths = GLOB_CHARS.test(path) ? expandGlob(path) : [path];
    if (paths.length === 0) throw new ConfigError(`${where}: glob '${path}' matches no files`);
    for (const p of paths) {
      add(p, align, where);
      if (type === 'tflite') {
        const labels = p.replace(/\.[^./\\]*$/, '') + '.txt';
        let isFile = false;
        try {
          isFile = statSync(labels).isFile();
        } catch {
          // no labels for this model
        }
        if (isFile) add(labels, 4, `${where} (labels)`);
      }
    }
  });
  return { id, size, files };
}

/** A flat tree of the partition's files, in config order. */
export function configTree(part: RomfsConfigPartition): TreeDir {
  return { type: 'dir', name: '', path: '', children: part.files };
}
