/**
 * Build an image: read the inputs (a source folder or one partition of a `romfs_config.json`),
 * give each file its alignment from the rules (a file whose content is a model gets the model
 * alignment whatever its name: the one model rule, models.ts), compile every `.py` (to `.mpy`,
 * or with keepPy only to check its syntax, the source is shipped), lay the records out so data
 * sits on its alignment at its address on the board (partition origin + offset), write them,
 * check the result fits the partition, and judge the models' addresses with the same function
 * verify and `hil flash` use. Nothing is returned (and nothing written by the CLI) when any step fails.
 */
import { resolve } from 'node:path';
import type { BoardProfile } from '../profile/profile.js';
import { RomfsBuildError } from './errors.js';
import { alignFor, rulesFromProfile, type AlignRules } from './rules.js';
import { readSourceTree, treeFiles, type TreeDir, type TreeFile, type TreeNode } from './tree.js';
import { planLayout, type LayoutName, type PlacedNode } from './layout.js';
import { writeImage, writeImageFile } from './writeImage.js';
import { cachedCompiler, nativeMpyCross, wasmMpyCross, type MpyCompiler } from './mpyCross.js';
import { defaultCacheDir } from './cacheDir.js';
import { fingerprint, readCachedImage, readCachedOutput, writeCachedImage, writeCachedOutput } from './imageCache.js';
import { readFileSync, statSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { statStamp } from './tree.js';
import { DEFAULT_MODEL_GLOBS, isModelFile, misalignedModelData, MODEL_MAGIC_BYTES, type ModelPlacement } from './models.js';
import { closeSync, openSync, readSync } from 'node:fs';
import { isEntryScript } from './entryScripts.js';

export interface BuildOptions {
  /** Folder whose contents become the image (directories kept). */
  sourceDir?: string;
  /** OpenMV `romfs_config.json` (flat image, mkromfs layout). */
  configFile?: string;
  /** Partition of the config to build (default: its first). */
  partition?: string | number;
  /** Config variables, e.g. { TOP: '/path/to/openmv' } (defaults: TOP = config folder, BUILD = TOP/build). */
  vars?: Record<string, string>;
  /** Alignment rules (default: from `profile`, else models 16 and 4 for the rest). */
  rules?: AlignRules;
  /** Board profile: default rules and partition size. */
  profile?: BoardProfile;
  /** Ship `.py` sources instead of compiling them. */
  keepPy?: boolean;
  /** Path of a native mpy-cross (default: the WebAssembly one), or a compiler object. */
  mpyCross?: string | MpyCompiler;
  layout?: LayoutName;
  /** Bytes available; larger images are an error. Default: the config's size, else the profile's. */
  partitionSize?: number;
  /** Cache folder (compiled .mpy, last image per input); false for no cache. */
  cacheDir?: string | false;
  /** Reuse the last image of unchanged inputs (default true; the .mpy cache is used either way). */
  imageCache?: boolean;
  /**
   * Write the image to this file (atomically; streamed, no image-sized buffer). With the cache on,
   * an unchanged input whose output file is untouched since the last build is not rewritten.
   * `bytes` of the result is then read from the file when first used.
   */
  outFile?: string;
}

export interface BuiltFileEntry {
  type: 'file';
  path: string;
  offset: number;
  size: number;
  /** Alignment the rules asked for. */
  align: number;
  /** Where the bytes came from (the .py for a compiled .mpy). */
  source: string;
  /** A model by the one rule (name or content). */
  model?: boolean;
}
export interface BuiltDirEntry {
  type: 'dir';
  path: string;
}
export type BuiltEntry = BuiltFileEntry | BuiltDirEntry;

export interface BuildUsage {
  used: number;
  size?: number;
  /** Where the size came from. */
  sizeFrom?: 'option' | 'config' | 'profile';
}

export interface BuildResult {
  bytes: Uint8Array;
  entries: BuiltEntry[];
  usage: BuildUsage;
  /** Files compiled from .py (from cache or freshly). */
  compiled: number;
  /** boot.py / main.py shipped as source although the build compiles .py (ENTRY_SCRIPTS: the firmware runs them by name). */
  keptAsSource: string[];
  /** True when the image came back from the image cache unchanged. */
  cached: boolean;
  /** With `outFile`: whether the file was (re)written. */
  written?: boolean;
  /** Address of the image's first byte the layout aligned for (the profile's partition origin, else 0). */
  origin: number;
  /** Models whose data address (origin + offset) is not on the profile's model alignment (none when the build could align them). */
  misaligned: ModelPlacement[];
}

const CACHE_FORMAT = 3; // 3: boot.py/main.py ship as source

/** The first bytes of a file (for the content rule); empty when it cannot be read (the build reports that later). */
function headOf(f: TreeFile): Uint8Array {
  if (f.data) return f.data.subarray(0, MODEL_MAGIC_BYTES);
  try {
    const fd = openSync(f.source, 'r');
    try {
      const b = new Uint8Array(MODEL_MAGIC_BYTES);
      const n = readSync(fd, b, 0, b.length, 0);
      return b.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch {
    return new Uint8Array(0);
  }
}

function entriesOf(nodes: PlacedNode[], models: Set<TreeNode>): BuiltEntry[] {
  const out: BuiltEntry[] = [];
  const visit = (pn: PlacedNode): void => {
    const n = pn.node;
    if (n.type === 'dir') {
      out.push({ type: 'dir', path: `${n.path}/` });
      pn.children!.forEach(visit);
    } else out.push({ type: 'file', path: n.path, offset: pn.dataOffset!, size: n.size, align: n.align, source: n.source, ...(models.has(n) ? { model: true } : {}) });
  };
  nodes.forEach(visit);
  return out;
}

function stampsOf(root: TreeDir): unknown[] {
  const out: unknown[] = [];
  const visit = (n: TreeNode): void => {
    if (n.type === 'file') out.push([n.path, n.source, n.stamp, n.align]);
    else {
      out.push([`${n.path}/`]);
      n.children.forEach(visit);
    }
  };
  root.children.forEach(visit);
  return out;
}

/**
 * Compile each `.py` and replace it by its `.mpy` (same place in the tree, name `x.mpy`); with
 * `keep`, and always for boot.py and main.py (ENTRY_SCRIPTS), compile only to check it (a syntax
 * error fails the build) and ship the source. `kept` collects the entry scripts shipped as source.
 */
async function compileTree(root: TreeDir, compiler: MpyCompiler, alignOf: (p: string) => number, sortByName: boolean, keep: boolean, kept: string[]): Promise<number> {
  let compiled = 0;
  const visit = async (dir: TreeDir): Promise<void> => {
    const names = new Set(dir.children.map((c) => c.name));
    for (let i = 0; i < dir.children.length; i++) {
      const c = dir.children[i]!;
      if (c.type === 'dir') {
        await visit(c);
        continue;
      }
      if (!c.name.endsWith('.py')) continue;
      const name = `${c.name.slice(0, -3)}.mpy`;
      const entry = !keep && isEntryScript(c.path);
      if (!keep && !entry && names.has(name)) throw new RomfsBuildError(`${c.source}: both ${c.name} and ${name} are in ${dir.path || 'the image root'}; remove one or use --keep-py`, c.source);
      let src;
      try {
        src = readFileSync(c.source);
      } catch (e) {
        throw new RomfsBuildError(`${c.source}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`, c.source);
      }
      const data = await compiler.compile(src, c.path, c.source);
      if (entry) kept.push(c.path);
      if (keep || entry) continue;
      const path = c.path.slice(0, -3) + '.mpy';
      const f: TreeFile = { ...c, name, path, data, size: data.length, align: alignOf(path) };
      dir.children[i] = f;
      compiled++;
    }
    if (sortByName) dir.children.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  };
  await visit(root);
  return compiled;
}

export async function buildImage(opts: BuildOptions): Promise<BuildResult> {
  if (!!opts.sourceDir === !!opts.configFile) throw new RomfsBuildError('give exactly one of a source folder or --config FILE', opts.configFile ?? opts.sourceDir ?? '');
  const rules = opts.rules ?? rulesFromProfile(opts.profile);
  const layout: LayoutName = opts.layout ?? 'aligned';
  if (layout !== 'aligned' && layout !== 'mpremote') throw new RomfsBuildError(`unknown layout '${layout}' (aligned, mpremote)`, String(layout));
  const alignOf = (p: string) => (layout === 'mpremote' ? 1 : alignFor(rules, p));
  // Data is aligned at its address on the board: the profile's partition origin + offset.
  const origin = layout === 'mpremote' ? 0 : opts.profile?.partition.origin ?? 0;
  const cacheDir = opts.cacheDir === false ? undefined : opts.cacheDir ?? defaultCacheDir();

  let root: TreeDir;
  let configSize: number | undefined;
  let inputId: string;
  let inputStamp: unknown = null;
  if (opts.configFile) {
    // Only a config build loads the config reader (and its glob library).
    const { configTree, readRomfsConfig } = await import('./openmvConfig.js');
    const part = readRomfsConfig(opts.configFile, { partition: opts.partition, vars: opts.vars, alignOf: layout === 'mpremote' ? () => 1 : alignOf });
    if (layout === 'mpremote') for (const f of part.files) f.align = 1;
    root = configTree(part);
    configSize = part.size;
    inputId = `config:${resolve(opts.configFile)}#${part.id}`;
    inputStamp = readFileSync(opts.configFile, 'utf8');
  } else {
    root = readSourceTree(opts.sourceDir!, alignOf);
    inputId = `dir:${resolve(opts.sourceDir!)}`;
  }

  let size: number | undefined;
  let sizeFrom: BuildUsage['sizeFrom'];
  if (opts.partitionSize !== undefined) [size, sizeFrom] = [opts.partitionSize, 'option'];
  else if (configSize !== undefined) [size, sizeFrom] = [configSize, 'config'];
  else if (opts.profile) [size, sizeFrom] = [opts.profile.partition.size, 'profile'];

  // The one model rule: a file whose content is a model is aligned as one, whatever its name.
  const models = new Set<TreeNode>();
  for (const f of treeFiles(root)) {
    const head = headOf(f);
    if (isModelFile({ models: rules.modelGlobs ?? opts.profile?.models ?? DEFAULT_MODEL_GLOBS }, f.path, head)) models.add(f);
    if (layout !== 'mpremote') f.align = Math.max(f.align, alignFor(rules, f.path, head));
  }
  // Every .py is compiled: to ship it as .mpy, or with keepPy to check it (the source ships).
  const compileNeeded = treeFiles(root).some((f) => f.name.endsWith('.py'));
  // The compiler's identity (package version, or native binary size and mtime) is part of the fingerprint.
  const compiler = !compileNeeded ? undefined : typeof opts.mpyCross === 'object' ? opts.mpyCross : opts.mpyCross ? nativeMpyCross(opts.mpyCross) : wasmMpyCross();
  const compilerId = compiler ? `${opts.keepPy ? 'keep-py:' : ''}${compiler.id}` : 'no-py';
  const fp = fingerprint([CACHE_FORMAT, layout, origin % 4096, compilerId, rules, inputStamp, stampsOf(root)]);
  const judge = (entries: BuiltEntry[]): ModelPlacement[] =>
    !opts.profile || layout === 'mpremote'
      ? []
      : misalignedModelData(entries.filter((e): e is BuiltFileEntry => e.type === 'file').map((e) => ({ path: e.path, offset: e.offset, model: !!e.model })), opts.profile, opts.profile.partition.origin);
  const fits = (used: number, file: string): void => {
    if (size !== undefined && used > size) {
      const from = sizeFrom === 'option' ? '--partition-size' : sizeFrom === 'config' ? 'the config' : `profile ${opts.profile!.name}`;
      throw new RomfsBuildError(`${file}: image is ${used} bytes, partition holds ${size} (from ${from}); ${used - size} bytes too many`, file);
    }
  };
  const inputName = opts.configFile ?? opts.sourceDir!;

  const useImageCache = !!cacheDir && opts.imageCache !== false;
  const outFile = opts.outFile === undefined ? undefined : resolve(opts.outFile);
  const outStamp = (p: string): string | undefined => {
    try {
      return statStamp(statSync(p, { bigint: true }));
    } catch {
      return undefined;
    }
  };
  /** `bytes` read from the output file on first use. */
  const lazyResult = (base: Omit<BuildResult, 'bytes'>, file: string): BuildResult => {
    let bytes: Uint8Array | undefined;
    return Object.defineProperty(base, 'bytes', {
      enumerable: true,
      get: () => (bytes ??= new Uint8Array(readFileSync(file))),
    }) as BuildResult;
  };
  if (useImageCache && outFile) {
    const hit = readCachedOutput<{ entries: BuiltEntry[]; compiled: number; keptAsSource?: string[] }>(cacheDir!, inputId, outFile, fp, outStamp);
    if (hit) {
      fits(hit.length, inputName);
      return lazyResult({ entries: hit.meta.entries, usage: { used: hit.length, size, sizeFrom }, compiled: hit.meta.compiled, keptAsSource: hit.meta.keptAsSource ?? [], cached: true, written: false, origin, misaligned: judge(hit.meta.entries) }, outFile);
    }
  } else if (useImageCache) {
    const hit = readCachedImage<{ entries: BuiltEntry[]; compiled: number; keptAsSource?: string[] }>(cacheDir!, inputId, fp);
    if (hit) {
      fits(hit.bytes.length, inputName);
      return { bytes: hit.bytes, entries: hit.meta.entries, usage: { used: hit.bytes.length, size, sizeFrom }, compiled: hit.meta.compiled, keptAsSource: hit.meta.keptAsSource ?? [], cached: true, origin, misaligned: judge(hit.meta.entries) };
    }
  }

  let compiled = 0;
  const keptAsSource: string[] = [];
  if (compiler) compiled = await compileTree(root, cachedCompiler(compiler, cacheDir), alignOf, !opts.configFile, !!opts.keepPy, keptAsSource);
  const planned = planLayout(root, layout, origin);
  fits(planned.total, inputName);
  const entries = entriesOf(planned.nodes, models);
  const misaligned = judge(entries);
  const usage = { used: planned.total, size, sizeFrom };
  if (outFile) {
    try {
      mkdirSync(dirname(outFile), { recursive: true });
    } catch (e) {
      throw new RomfsBuildError(`${outFile}: cannot create its folder (${(e as NodeJS.ErrnoException).code ?? e})`, outFile);
    }
    writeImageFile(planned, outFile);
    const stamp = outStamp(outFile);
    if (cacheDir && stamp) writeCachedOutput(cacheDir!, inputId, outFile, fp, stamp, planned.total, { entries, compiled, keptAsSource });
    return lazyResult({ entries, usage, compiled, keptAsSource, cached: false, written: true, origin, misaligned }, outFile);
  }
  const bytes = writeImage(planned);
  if (useImageCache) writeCachedImage(cacheDir!, inputId, fp, bytes, { entries, compiled, keptAsSource });
  return { bytes, entries, usage, compiled, keptAsSource, cached: false, origin, misaligned };
}
