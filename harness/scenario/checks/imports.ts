/**
 * imports: `/rom` and `/rom/lib` are on sys.path; every package and module in the image imports
 * as it would on a freshly booted board, its `__file__` shows it came from `/rom`; every other
 * `.py` (main.py, boot.py, files whose name is no module name) compiles with the board's own
 * compiler, and what it imports at its top level imports on the board; named entry points (`app.run`) are called, each right after its own soft reset.
 *
 * Fresh boot: the board is soft reset before the imports program, which imports each module in
 * the module table it started with (sys.modules and sys.path put back before every import, and
 * checked; harness/board/scenario/imports.py). Where that table cannot be put back (an
 * application replaced sys.path), each module is imported after a soft reset of its own. An entry
 * point always runs after a soft reset (harness/board/scenario/entry.py): `import mylib` then
 * `mylib.helpers.x()` fails there as on a fresh board, even though discovery imported
 * `mylib.helpers`. Folders without `__init__` are namespace packages, as MicroPython imports them.
 * Any BaseException in an import or entry point (sys.exit(), KeyboardInterrupt) is a finding.
 */
import { isDeepStrictEqual } from 'node:util';
import type { CheckContext, ImageFile } from '../context.js';
import type { ImportsOptions } from '../definition.js';
import { runProbe, scenarioProgram } from '../probe.js';
import type { CheckResult } from '../result.js';
import { MPY_ARCHS, type MpyArch } from '../../profile/profile.js';
import { mpyHeader, mpyLoadProblem } from '../../romfs/mpyHeader.js';
import { MpyCompileError } from '../../romfs/errors.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Top-level scripts (a board runs main.py/boot.py from its working directory): importing one would start the application. */
const NOT_IMPORTED = new Set(['main', 'boot']);

export interface DiscoveredModules {
  modules: string[];
  /** `.py` files that are not imported (compiled instead), with why. */
  compileOnly: { path: string; why: string }[];
  /** `.mpy` files that are not imported (their header is checked instead), with why. */
  mpyOnly: { path: string; why: string }[];
}

/**
 * Modules and packages in the image, as `import` names: files under `lib/` are found through
 * `/rom/lib`, the rest through `/rom`. A folder without `__init__` is a namespace package (as in
 * MicroPython), so `lib/drv/cam.py` is `drv.cam`. Files that cannot be imported by name, and
 * main/boot, are listed to be compiled (or their .mpy header checked) instead.
 */
export function discoverModules(files: readonly Pick<ImageFile, 'path'>[]): DiscoveredModules {
  const modules = new Set<string>();
  const compileOnly: DiscoveredModules['compileOnly'] = [];
  const mpyOnly: DiscoveredModules['mpyOnly'] = [];
  for (const f of files) {
    const m = /^(.*)\.(py|mpy)$/.exec(f.path);
    if (!m) continue;
    const other = (why: string) => (m[2] === 'py' ? compileOnly : mpyOnly).push({ path: f.path, why });
    const base = f.path.startsWith('lib/') ? 'lib/' : '';
    const rel = m[1]!.slice(base.length).split('/');
    const parts = rel[rel.length - 1] === '__init__' ? rel.slice(0, -1) : rel;
    if (parts.length === 0) {
      other('package initialiser at the search-path root');
      continue;
    }
    if (!parts.every((p) => IDENT.test(p))) {
      other('not a valid module name');
      continue;
    }
    if (parts.length === 1 && base === '' && NOT_IMPORTED.has(parts[0]!)) {
      other('a main or boot script, not imported');
      continue;
    }
    modules.add(parts.join('.'));
  }
  return { modules: [...modules].sort(), compileOnly, mpyOnly };
}

export function importsProbe(modules: string[], compile: string[], root = '/rom', scriptImports: ScriptImport[] = []): string {
  return scenarioProgram('imports', { modules, compile, root, script_imports: scriptImports });
}

/** [script path, line, module name]: a module a script imports at its top level. */
export type ScriptImport = [script: string, line: number, module: string];

/**
 * The modules a script imports at its top level (statements at column 0: `import a, b.c as d`,
 * `from a.b import c`; relative imports and imports inside blocks are left out: they may be
 * conditional). Read from the source; the script itself is never run.
 */
export function topLevelImports(script: string, source: string): ScriptImport[] {
  const out: ScriptImport[] = [];
  source.split(/\r?\n/).forEach((text, i) => {
    const line = text.replace(/#.*$/, '');
    let m = /^import\s+(.+?)\s*;?\s*$/.exec(line);
    if (m) {
      for (const part of m[1]!.split(',')) {
        const name = part.trim().split(/\s+as\s+/)[0]!.trim();
        if (/^[A-Za-z_][\w.]*$/.test(name)) out.push([script, i + 1, name]);
      }
      return;
    }
    m = /^from\s+([A-Za-z_][\w.]*)\s+import\b/.exec(line);
    if (m) out.push([script, i + 1, m[1]!]);
  });
  return out;
}

export function entryProbe(call: string): string {
  return scenarioProgram('entry', { call });
}

/** What imports.py answers. */
export interface ImportsProgramAnswer {
  path: string[];
  /** The module table was the boot one before every import. */
  clean: boolean;
  mods: [name: string, file: string | null, traceback: string | null][];
  /** The top-level imports of the scripts that are compiled, each tried on the board. */
  scripts: [script: string, line: number, module: string, traceback: string | null][];
  /** null when the board has no compile() (the host compiles with mpy-cross instead). */
  compiled: [path: string, traceback: string | null][] | null;
  /** sys.implementation._mpy, when the firmware has it. */
  mpy: number | null;
}

/** [call, ok, json of the return value, repr or traceback] (what entry.py answers). */
export type EntryAnswer = [call: string, ok: boolean, json: string | null, text: string | null];

export interface ImportsAnswer {
  path: string[];
  mods: ImportsProgramAnswer['mods'];
  eps: EntryAnswer[];
  /** [path, problem or null, how it was checked] for every file that is not imported. */
  others?: [path: string, problem: string | null, how: string][];
}

const lastLine = (tb: string) => tb.trimEnd().split(/\r?\n/).pop() ?? tb;
const indented = (tb: string) => tb.trimEnd().split(/\r?\n/).map((l) => `  ${l}`);

/** `File "x", line N: Error: text` out of a traceback of a compile error. */
export function compileProblem(tb: string): string {
  const frames = [...tb.matchAll(/File "([^"]*)", line (\d+)/g)];
  const at = frames.length ? `line ${frames[frames.length - 1]![2]}: ` : '';
  return `${at}${lastLine(tb)}`;
}

/** Every problem in the board's answer, one finding each (traceback lines kept after it). */
export function judgeImports(a: ImportsAnswer, opts: ImportsOptions): { problems: string[]; details: string[] } {
  const problems: string[] = [];
  const details: string[] = [];
  for (const p of opts.paths) {
    if (!a.path.includes(p)) problems.push(`sys.path lacks '${p}' (sys.path = ${JSON.stringify(a.path)})`);
  }
  for (const [m, file, tb] of a.mods) {
    if (tb !== null) {
      problems.push(`import ${m} failed: ${lastLine(tb)}`);
      details.push(`import ${m} failed:`, ...indented(tb));
    } else if (file === null) problems.push(`import ${m}: module has no __file__ (built in or frozen, not from ${opts.fileUnder})`);
    else if (!file.startsWith(opts.fileUnder)) problems.push(`import ${m}: came from ${file}, not from ${opts.fileUnder}`);
    else details.push(`import ${m}: ok (${file})`);
  }
  for (const [path, problem, how] of a.others ?? []) {
    if (problem !== null) problems.push(`${path}: ${problem}`);
    else details.push(`${path}: ${how}`);
  }
  for (const ep of opts.entryPoints) {
    const got = a.eps.find((e) => e[0] === ep.call);
    if (!got) {
      problems.push(`${ep.call}(): no answer`);
      continue;
    }
    const [, ok, json, text] = got;
    if (!ok) {
      const tb = text ?? '';
      problems.push(`${ep.call}() raised: ${lastLine(tb)}`);
      details.push(`${ep.call}() raised:`, ...indented(tb));
      continue;
    }
    const shown = json ?? text ?? '?';
    if ('expect' in ep) {
      let value: unknown = undefined;
      try {
        value = json === null ? undefined : JSON.parse(json);
      } catch {
        value = undefined;
      }
      if (!isDeepStrictEqual(value, ep.expect)) {
        problems.push(`${ep.call}() returned ${shown}, expected ${JSON.stringify(ep.expect)}`);
        continue;
      }
    }
    details.push(`${ep.call}(): returned ${shown}`);
  }
  return { problems, details };
}

/** The firmware's .mpy version and arch from sys.implementation._mpy (version | sub << 8 | arch << 10). */
function firmwareMpy(mpy: number | null, fallback: { version: number; arch: MpyArch }): { version: number; arch: MpyArch } {
  if (typeof mpy !== 'number') return fallback;
  const arch = MPY_ARCHS[(mpy >> 10) & 0x0f];
  return arch ? { version: mpy & 0xff, arch } : fallback;
}

const fileBytes = (ctx: CheckContext, path: string): Uint8Array | undefined => {
  const f = ctx.image.files.find((x) => x.path === path);
  return f ? ctx.image.bytes.subarray(f.offset, f.offset + f.size) : undefined;
};

/** Judge the files that are not imported: compiled on the board (or here), .mpy headers checked. */
export async function checkOthers(ctx: CheckContext, found: DiscoveredModules, a: ImportsProgramAnswer): Promise<NonNullable<ImportsAnswer['others']>> {
  const out: NonNullable<ImportsAnswer['others']> = [];
  for (const { path, why } of found.compileOnly) {
    const onBoard = a.compiled?.find((c) => c[0] === path);
    if (onBoard) {
      out.push([path, onBoard[1] === null ? null : `does not compile on the board: ${compileProblem(onBoard[1])}`, `compiles on the board (${why})`]);
      continue;
    }
    const src = fileBytes(ctx, path);
    if (!src) {
      out.push([path, 'not in the image', '']);
      continue;
    }
    try {
      const { wasmMpyCross } = await import('../../romfs/mpyCross.js');
      await wasmMpyCross().compile(src, path, path);
      out.push([path, null, `compiles with mpy-cross (the board has no compile(); ${why})`]);
    } catch (e) {
      if (!(e instanceof MpyCompileError)) throw e;
      out.push([path, `does not compile (mpy-cross; the board has no compile()): ${e.message.split('\n')[0]}`, '']);
    }
  }
  const inImage = new Set(found.modules.map((m) => m.split('.')[0]!));
  for (const [script, line, m, tb] of a.scripts ?? []) {
    if (tb === null) out.push([script, null, `line ${line}: import ${m} works on the board`]);
    // The simulated board has no camera drivers (sensor, image...): a module the image does not
    // bring is only noted there; on a real board (and QEMU) it is a finding.
    else if (ctx.simulatedBoard && !inImage.has(m.split('.')[0]!)) out.push([script, null, `line ${line}: import ${m} fails on the simulated board (${lastLine(tb)}); not judged here`]);
    else out.push([script, `line ${line}: import ${m} fails on the board: ${lastLine(tb)}`, '']);
  }
  const fw = firmwareMpy(a.mpy, ctx.profile.mpy);
  for (const { path, why } of found.mpyOnly) {
    const b = fileBytes(ctx, path);
    const h = b ? mpyHeader(b) : undefined;
    if (!h) {
      out.push([path, 'not an .mpy file (no valid header)', '']);
      continue;
    }
    const p = mpyLoadProblem(h, fw);
    out.push([path, p ? `would not import on the board: ${p}` : null, `.mpy v${h.version} ${h.archName} loads on the board (${why})`]);
  }
  return out;
}

export async function importsCheck(ctx: CheckContext, opts: ImportsOptions): Promise<CheckResult> {
  const t0 = performance.now();
  const found = opts.discover ? discoverModules(ctx.image.files) : { modules: [], compileOnly: [], mpyOnly: [] };
  const modules = [...new Set([...found.modules, ...opts.modules])];
  const compile = found.compileOnly.map((c) => c.path);
  const printed: string[] = [];
  const fresh = () => ctx.device.softReset({ timeoutMs: ctx.timeoutMs });
  const ask = async <T>(code: string, phase: string): Promise<T> => {
    const r = await runProbe<T>(ctx.device, code, phase, ctx.timeoutMs, { rereadable: false });
    if (r.printed.trim()) printed.push(...r.printed.trimEnd().split(/\r?\n/));
    return r.value;
  };

  const scriptImports = found.compileOnly.flatMap(({ path }) => {
    const src = fileBytes(ctx, path);
    return src ? topLevelImports(path, Buffer.from(src).toString('utf8')) : [];
  });
  await fresh();
  const a = await ask<ImportsProgramAnswer>(importsProbe(modules, compile, '/rom', scriptImports), 'imports');
  let mods = a.mods;
  let cleanNote: string | undefined;
  if (!a.clean) {
    // An import changed the table beyond repair (e.g. replaced sys.path): a soft reset per module.
    cleanNote = 'the module table could not be put back between imports: each module was imported after its own soft reset';
    mods = [];
    for (const m of modules) {
      await fresh();
      mods.push(...(await ask<ImportsProgramAnswer>(importsProbe([m], []), 'imports')).mods);
    }
  }
  const eps: EntryAnswer[] = [];
  for (const ep of opts.entryPoints) {
    await fresh();
    eps.push(await ask<EntryAnswer>(entryProbe(ep.call), 'imports'));
  }
  const others = await checkOthers(ctx, found, a);
  const answer: ImportsAnswer = { path: a.path, mods, eps, others };
  const durationMs = performance.now() - t0;
  const { problems, details } = judgeImports(answer, opts);
  if (cleanNote) details.push(cleanNote);
  if (printed.length) details.push('printed on the board:', ...printed.map((l) => `  ${l}`));
  const data = { modules, compiled: found.compileOnly.map((c) => c.path), entryPoints: eps.map(([call, ok, json]) => ({ call, ok, value: json })), sysPath: a.path };
  if (problems.length > 0) {
    return { name: 'imports', status: 'failed', durationMs, reason: problems[0] + (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''), details: [...problems, ...details], data };
  }
  if (modules.length === 0 && opts.entryPoints.length === 0 && others.length === 0) {
    return { name: 'imports', status: 'skipped', durationMs, reason: 'the image holds no Python modules and no entry points are named', details, data };
  }
  return { name: 'imports', status: 'passed', durationMs, details: [`sys.path has ${opts.paths.join(', ')}; ${modules.length} modules imported from ${opts.fileUnder} as on a fresh boot`, ...details], data };
}
