/**
 * imports: `/rom` and `/rom/lib` are on sys.path; every package and module in the image imports in
 * a fresh namespace (everything previously loaded from /rom is dropped from sys.modules first) and
 * its `__file__` shows it came from `/rom`; named entry points (`app.run`) are called. One round trip.
 */
import { isDeepStrictEqual } from 'node:util';
import type { CheckContext, ImageFile } from '../context.js';
import type { ImportsOptions } from '../definition.js';
import { PY_PRELUDE, pyEmit, pyValue, runProbe } from '../probe.js';
import type { CheckResult } from '../result.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Top-level scripts the firmware runs itself: importing them would start the application. */
const NOT_IMPORTED = new Set(['main', 'boot']);

export interface DiscoveredModules {
  modules: string[];
  /** Python files that are not importable by name, with why. */
  ignored: string[];
}

/**
 * Modules and packages in the image, as `import` names: files under `lib/` are found through
 * `/rom/lib`, the rest through `/rom`. A module inside a folder is importable only when every folder
 * on its way is a package (has `__init__.py` or `.mpy`).
 */
export function discoverModules(files: readonly Pick<ImageFile, 'path'>[]): DiscoveredModules {
  const paths = new Set(files.map((f) => f.path));
  const isPkg = (dir: string) => paths.has(`${dir}/__init__.py`) || paths.has(`${dir}/__init__.mpy`);
  const modules = new Set<string>();
  const ignored: string[] = [];
  for (const f of files) {
    const m = /^(.*)\.(py|mpy)$/.exec(f.path);
    if (!m) continue;
    const base = f.path.startsWith('lib/') ? 'lib/' : '';
    const rel = m[1]!.slice(base.length).split('/');
    const parts = rel[rel.length - 1] === '__init__' ? rel.slice(0, -1) : rel;
    if (parts.length === 0) {
      ignored.push(`${f.path}: package initialiser at the search-path root`);
      continue;
    }
    if (!parts.every((p) => IDENT.test(p))) {
      ignored.push(`${f.path}: not a valid module name`);
      continue;
    }
    let ok = true;
    for (let i = 1; i < rel.length; i++) {
      const dir = base + rel.slice(0, i).join('/');
      if (!isPkg(dir)) ok = false;
    }
    if (!ok) {
      ignored.push(`${f.path}: not inside a package (a folder on its path has no __init__)`);
      continue;
    }
    if (parts.length === 1 && base === '' && NOT_IMPORTED.has(parts[0]!)) {
      ignored.push(`${f.path}: run by the firmware, not imported`);
      continue;
    }
    modules.add(parts.join('.'));
  }
  return { modules: [...modules].sort(), ignored };
}

export function importsProbe(modules: string[], opts: ImportsOptions): string {
  return `${PY_PRELUDE}
def _hil_fresh(under):
    for k in list(sys.modules):
        f = getattr(sys.modules[k], '__file__', None)
        if isinstance(f, str) and f.startswith(under):
            del sys.modules[k]
def _hil_drop(name):
    for k in list(sys.modules):
        if k == name or k.startswith(name + '.') or name.startswith(k + '.'):
            del sys.modules[k]
def _hil_mod(name):
    top = __import__(name)
    mod = sys.modules.get(name)
    if mod is None:
        mod = top
        for part in name.split('.')[1:]:
            mod = getattr(mod, part)
    return mod
def _hil_imports(mods, want_paths, under, eps):
    r = {'path': list(sys.path), 'mods': [], 'eps': []}
    for m in mods:
        _hil_fresh(under)
        _hil_drop(m)
        try:
            mod = _hil_mod(m)
            r['mods'].append([m, getattr(mod, '__file__', None), None])
        except Exception as e:
            r['mods'].append([m, None, _hil_tb(e)])
    for ep in eps:
        call = ep
        i = call.rfind('.')
        mn = call[:i]
        try:
            v = getattr(_hil_mod(mn), call[i + 1:])()
            try:
                r['eps'].append([call, True, json.dumps(v), None])
            except Exception:
                r['eps'].append([call, True, None, repr(v)])
        except Exception as e:
            r['eps'].append([call, False, None, _hil_tb(e)])
    return r
${pyEmit(`_hil_imports(${pyValue(modules)}, ${pyValue(opts.paths)}, ${pyValue(opts.fileUnder)}, ${pyValue(opts.entryPoints.map((e) => e.call))})`)}
`;
}

export interface ImportsAnswer {
  path: string[];
  mods: [name: string, file: string | null, traceback: string | null][];
  /** [call, ok, json of the return value, repr or traceback] */
  eps: [call: string, ok: boolean, json: string | null, text: string | null][];
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
      const last = tb.trimEnd().split(/\r?\n/).pop() ?? tb;
      problems.push(`import ${m} failed: ${last}`);
      details.push(`import ${m} failed:`, ...tb.trimEnd().split(/\r?\n/).map((l) => `  ${l}`));
    } else if (file === null) problems.push(`import ${m}: module has no __file__ (built in or frozen, not from ${opts.fileUnder})`);
    else if (!file.startsWith(opts.fileUnder)) problems.push(`import ${m}: came from ${file}, not from ${opts.fileUnder}`);
    else details.push(`import ${m}: ok (${file})`);
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
      problems.push(`${ep.call}() raised: ${tb.trimEnd().split(/\r?\n/).pop()}`);
      details.push(`${ep.call}() raised:`, ...tb.trimEnd().split(/\r?\n/).map((l) => `  ${l}`));
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

export async function importsCheck(ctx: CheckContext, opts: ImportsOptions): Promise<CheckResult> {
  const t0 = performance.now();
  const found = opts.discover ? discoverModules(ctx.image.files) : { modules: [], ignored: [] };
  const modules = [...new Set([...found.modules, ...opts.modules])];
  const { value, printed } = await runProbe<ImportsAnswer>(ctx.device, importsProbe(modules, opts), 'imports', ctx.timeoutMs);
  const durationMs = performance.now() - t0;
  const { problems, details } = judgeImports(value, opts);
  if (printed.trim()) details.push('printed on the board:', ...printed.trimEnd().split(/\r?\n/).map((l) => `  ${l}`));
  for (const i of found.ignored) details.push(`not imported: ${i}`);
  const data = { modules, entryPoints: value.eps.map(([call, ok, json]) => ({ call, ok, value: json })), sysPath: value.path };
  if (problems.length > 0) {
    return { name: 'imports', status: 'failed', durationMs, reason: problems[0] + (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''), details: [...problems, ...details], data };
  }
  if (modules.length === 0 && opts.entryPoints.length === 0) {
    return { name: 'imports', status: 'skipped', durationMs, reason: 'the image holds no Python modules and no entry points are named', details, data };
  }
  return { name: 'imports', status: 'passed', durationMs, details: [`sys.path has ${opts.paths.join(', ')}; ${modules.length} modules imported from ${opts.fileUnder}`, ...details], data };
}
