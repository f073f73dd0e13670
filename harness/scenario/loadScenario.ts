/**
 * Find and load scenario definitions. A scenario argument is a folder path
 * (`scenarios/model-load`, `./my-checks`) or a name looked up under `./scenarios/` and then under
 * the scenarios shipped with hil. Every problem is a ScenarioConfigError naming the file and field.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import type {
  CheckSpec, EntryPoint, FlashMode, ImageSpec, ImportsOptions, ListingOptions, ModelInput, ModelsOptions, ScenarioDefinition,
} from './definition.js';
import { ScenarioConfigError } from './errors.js';

export const DEFINITION_FILES = ['scenario.yaml', 'scenario.yml', 'scenario.json'];

/** The `scenarios/` folder shipped with hil (works from sources and from `dist/`). */
export function builtinScenarioDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'scenarios');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Resolve a scenario argument to its folder; UsageError-class error listing where it looked. */
export function resolveScenarioDir(arg: string, cwd = process.cwd()): string {
  const tried: string[] = [];
  const direct = resolve(cwd, arg);
  tried.push(direct);
  if (isDir(direct)) return direct;
  if (!arg.includes('/') && !arg.includes('\\')) {
    const local = join(cwd, 'scenarios', arg);
    tried.push(local);
    if (isDir(local)) return local;
    const builtin = builtinScenarioDir();
    if (builtin) {
      const b = join(builtin, arg);
      tried.push(b);
      if (isDir(b)) return b;
    }
  }
  throw new ScenarioConfigError(`scenario '${arg}' not found (looked in ${[...new Set(tried)].join(', ')})`);
}

export function findDefinitionFile(dir: string): string {
  for (const f of DEFINITION_FILES) {
    const p = join(dir, f);
    if (existsSync(p)) return p;
  }
  throw new ScenarioConfigError(`${dir}: no scenario definition (expected one of ${DEFINITION_FILES.join(', ')})`);
}

export function loadScenario(arg: string, cwd = process.cwd()): ScenarioDefinition {
  const dir = resolveScenarioDir(arg, cwd);
  const file = findDefinitionFile(dir);
  let raw: unknown;
  try {
    const text = readFileSync(file, 'utf8');
    raw = file.endsWith('.json') ? JSON.parse(text) : yaml.load(text);
  } catch (e) {
    throw new ScenarioConfigError(`${file}: not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseScenario(raw, file);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Fields {
  constructor(readonly file: string) {}
  err(path: string, msg: string): ScenarioConfigError {
    return new ScenarioConfigError(`${this.file}: field '${path}' ${msg}`);
  }
  str(o: Obj, key: string, path: string, dflt?: string): string {
    const v = o[key];
    if (v === undefined && dflt !== undefined) return dflt;
    if (typeof v !== 'string' || v.length === 0) throw this.err(path, `must be a non-empty string (got ${JSON.stringify(v)})`);
    return v;
  }
  bool(o: Obj, key: string, path: string, dflt: boolean): boolean {
    const v = o[key];
    if (v === undefined) return dflt;
    if (typeof v !== 'boolean') throw this.err(path, `must be true or false (got ${JSON.stringify(v)})`);
    return v;
  }
  strList(o: Obj, key: string, path: string, dflt: string[]): string[] {
    const v = o[key];
    if (v === undefined) return dflt;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.length > 0)) throw this.err(path, 'must be a list of strings');
    return v as string[];
  }
  known(o: Obj, keys: string[], path: string): void {
    for (const k of Object.keys(o)) {
      if (!keys.includes(k)) throw this.err(path ? `${path}.${k}` : k, `is not a known field (known: ${keys.join(', ')})`);
    }
  }
}

/** Classify an image path by what it is: a folder (source tree), a `.json` config, or an image file. */
export function imageSpecFor(path: string): ImageSpec {
  if (isDir(path)) return { kind: 'source', path };
  if (extname(path).toLowerCase() === '.json') return { kind: 'config', path };
  return { kind: 'img', path };
}

function parseImage(f: Fields, v: unknown, dir: string): ImageSpec {
  if (typeof v === 'string' && v.length > 0) return imageSpecFor(resolve(dir, v));
  if (!isObj(v)) throw f.err('image', 'is required: a path, or one of {source: DIR}, {config: romfs_config.json}, {file: IMAGE.img}');
  f.known(v, ['source', 'config', 'file'], 'image');
  const given = (['source', 'config', 'file'] as const).filter((k) => v[k] !== undefined);
  if (given.length !== 1) throw f.err('image', 'must name exactly one of source, config, file');
  const key = given[0]!;
  const p = resolve(dir, f.str(v, key, `image.${key}`));
  return { kind: key === 'file' ? 'img' : key, path: p };
}

function parseEntryPoint(f: Fields, v: unknown, path: string): EntryPoint {
  const ok = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
  if (typeof v === 'string') {
    if (!ok.test(v)) throw f.err(path, `must be 'module.function' (got ${JSON.stringify(v)})`);
    return { call: v };
  }
  if (!isObj(v)) throw f.err(path, "must be 'module.function' or {call: module.function, expect: VALUE}");
  f.known(v, ['call', 'expect'], path);
  const call = f.str(v, 'call', `${path}.call`);
  if (!ok.test(call)) throw f.err(`${path}.call`, `must be 'module.function' (got ${JSON.stringify(call)})`);
  return 'expect' in v ? { call, expect: v.expect } : { call };
}

/** A check module's file must exist and be JavaScript or TypeScript: known before any board is touched. */
function moduleFile(f: Fields, file: string, path: string): string {
  if (!/\.(m?js|m?ts)$/.test(file)) throw f.err(path, `must name a .js, .mjs, .ts or .mts file (got ${file})`);
  if (!existsSync(file) || !statSync(file).isFile()) throw f.err(path, `names ${file}, which does not exist`);
  return file;
}

/** A path inside the image: relative, no `..` (what the board opens under /rom). */
function imagePath(f: Fields, v: unknown, path: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.startsWith('/') || v.split('/').includes('..')) {
    throw f.err(path, `must be a file's path inside the image, e.g. inputs/x.bin (got ${JSON.stringify(v)})`);
  }
  return v;
}

function parseInputs(f: Fields, v: unknown, path: string): Record<string, ModelInput> {
  if (v === undefined) return {};
  if (!isObj(v)) throw f.err(path, 'must map model paths to an input: zeros, {pattern: SEED}, {file: PATH}, {image: PATH}');
  const out: Record<string, ModelInput> = {};
  for (const [model, spec] of Object.entries(v)) {
    const p = `${path}.${model}`;
    if (spec === 'zeros') {
      out[model] = { kind: 'zeros' };
      continue;
    }
    if (!isObj(spec) || Object.keys(spec).length !== 1) throw f.err(p, 'must be one of zeros, {pattern: SEED}, {file: PATH}, {image: PATH}');
    f.known(spec, ['pattern', 'file', 'image'], p);
    if (spec.pattern !== undefined) {
      const seed = spec.pattern;
      if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0x7fffffff) throw f.err(`${p}.pattern`, `must be an integer seed from 0 to 2147483647 (got ${JSON.stringify(seed)})`);
      out[model] = { kind: 'pattern', seed };
    } else if (spec.file !== undefined) out[model] = { kind: 'file', path: imagePath(f, spec.file, `${p}.file`) };
    else out[model] = { kind: 'image', path: imagePath(f, spec.image, `${p}.image`) };
  }
  return out;
}

function parseTolerance(f: Fields, v: unknown, path: string): Record<string, number> {
  if (v === undefined) return {};
  if (!isObj(v)) throw f.err(path, 'must map model paths to the largest absolute difference allowed, e.g. {model.tflite: 0.01}');
  for (const [k, t] of Object.entries(v)) {
    if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw f.err(`${path}.${k}`, `must be a number >= 0 (got ${JSON.stringify(t)})`);
  }
  return v as Record<string, number>;
}

function parseRuns(f: Fields, v: unknown, path: string): number {
  if (v === undefined) return 3;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1000) throw f.err(path, `must be an integer from 0 to 1000 (got ${JSON.stringify(v)})`);
  return v;
}

function parseCheck(f: Fields, v: unknown, i: number): CheckSpec {
  const path = `checks[${i}]`;
  let kind: string;
  let opts: Obj = {};
  if (typeof v === 'string') kind = v;
  else if (isObj(v) && Object.keys(v).length === 1) {
    kind = Object.keys(v)[0]!;
    const o = v[kind];
    if (kind === 'module') {
      if (typeof o === 'string') return { kind: 'module', path: moduleFile(f, resolve(dirname(f.file), o), `${path}.module`), options: {} };
      if (!isObj(o)) throw f.err(`${path}.module`, 'must be a path or {path: FILE, options: {...}}');
      f.known(o, ['path', 'options'], `${path}.module`);
      const opt = o.options ?? {};
      if (!isObj(opt)) throw f.err(`${path}.module.options`, 'must be a mapping');
      return { kind: 'module', path: moduleFile(f, resolve(dirname(f.file), f.str(o, 'path', `${path}.module.path`)), `${path}.module.path`), options: opt };
    }
    if (o !== null && o !== undefined && !isObj(o)) throw f.err(`${path}.${kind}`, 'must be a mapping of options');
    opts = (o as Obj) ?? {};
  } else throw f.err(path, 'must be a check name (listing, imports, models) or {NAME: {options}}');
  const p = `${path}.${kind}`;
  switch (kind) {
    case 'listing': {
      f.known(opts, ['sha256'], p);
      const options: ListingOptions = { sha256: f.bool(opts, 'sha256', `${p}.sha256`, true) };
      return { kind, options };
    }
    case 'imports': {
      f.known(opts, ['paths', 'modules', 'discover', 'entryPoints', 'fileUnder'], p);
      const eps = opts.entryPoints ?? [];
      if (!Array.isArray(eps)) throw f.err(`${p}.entryPoints`, 'must be a list');
      const options: ImportsOptions = {
        paths: f.strList(opts, 'paths', `${p}.paths`, ['/rom', '/rom/lib']),
        modules: f.strList(opts, 'modules', `${p}.modules`, []),
        discover: f.bool(opts, 'discover', `${p}.discover`, true),
        entryPoints: eps.map((e, j) => parseEntryPoint(f, e, `${p}.entryPoints[${j}]`)),
        fileUnder: f.str(opts, 'fileUnder', `${p}.fileUnder`, '/rom/'),
      };
      return { kind, options };
    }
    case 'models': {
      f.known(opts, ['inference', 'outputShapes', 'requireModels', 'inputs', 'tolerance', 'golden', 'sequence', 'runs'], p);
      const shapes = opts.outputShapes ?? {};
      if (!isObj(shapes)) throw f.err(`${p}.outputShapes`, 'must map model paths to lists of shapes');
      for (const [k, s] of Object.entries(shapes)) {
        if (!Array.isArray(s) || !s.every((t) => Array.isArray(t) && t.every((n) => Number.isInteger(n) && n >= 0))) {
          throw f.err(`${p}.outputShapes.${k}`, 'must be a list of shapes, e.g. [[1, 10]]');
        }
      }
      const options: ModelsOptions = {
        inference: f.bool(opts, 'inference', `${p}.inference`, true),
        outputShapes: shapes as Record<string, number[][]>,
        requireModels: f.bool(opts, 'requireModels', `${p}.requireModels`, true),
        inputs: parseInputs(f, opts.inputs, `${p}.inputs`),
        tolerance: parseTolerance(f, opts.tolerance, `${p}.tolerance`),
        goldenDir: resolve(dirname(f.file), f.str(opts, 'golden', `${p}.golden`, 'golden')),
        sequence: f.bool(opts, 'sequence', `${p}.sequence`, true),
        runs: parseRuns(f, opts.runs, `${p}.runs`),
      };
      return { kind, options };
    }
    default:
      throw f.err(path, `names an unknown check '${kind}' (known: listing, imports, models, module)`);
  }
}

export function parseScenario(raw: unknown, file: string): ScenarioDefinition {
  const f = new Fields(file);
  if (!isObj(raw)) throw new ScenarioConfigError(`${file}: a scenario must be a mapping`);
  f.known(raw, ['name', 'description', 'image', 'flash', 'softReset', 'checkTimeoutMs', 'checks'], '');
  const dir = dirname(file);
  const name = raw.name === undefined ? dir.split(/[\\/]/).pop()! : f.str(raw, 'name', 'name');
  const flash = raw.flash ?? 'auto';
  if (flash !== 'auto' && flash !== 'always' && flash !== 'never') throw f.err('flash', `must be auto, always or never (got ${JSON.stringify(flash)})`);
  const t = raw.checkTimeoutMs ?? 60_000;
  if (typeof t !== 'number' || !Number.isInteger(t) || t <= 0) throw f.err('checkTimeoutMs', 'must be a positive integer (milliseconds)');
  const checks = raw.checks;
  if (!Array.isArray(checks) || checks.length === 0) throw f.err('checks', 'must be a non-empty list');
  return {
    name,
    description: typeof raw.description === 'string' ? raw.description : name,
    dir,
    file,
    image: parseImage(f, raw.image, dir),
    flash: flash as FlashMode,
    softReset: f.bool(raw, 'softReset', 'softReset', true),
    checkTimeoutMs: t,
    checks: checks.map((c, i) => parseCheck(f, c, i)),
  };
}
