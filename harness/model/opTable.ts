/**
 * The op fact tables in devices/ops/<firmware>-<version>.yaml: per firmware version, the TFLM
 * operators it registers (builtins by BuiltinOperator name, custom ops by name), the Ethos-U op
 * and the profiles that have it, the tensor types `ml` accepts, the schema version, the arena
 * slack the backend adds, and (from v4.8.0) what the N6's ST runtime requires of an NBIN header.
 * Each file cites the upstream source it was read from. This module loads and validates them.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { checkoutPath } from '../checkout.js';
import { OpTableError } from './errors.js';
import { builtinCode, TENSOR_TYPES } from './schema.js';

export interface NbinRequirements {
  profiles: string[];
  runtime: { major: number; minor: number };
  cpuId: number;
  debugInfo: boolean;
  asyncMode: boolean;
  /** 'required': the secure flag must be set; 'ignored': the runtime only logs it. */
  secure: 'required' | 'ignored';
  headerBytes: number;
  atonRuntime: string;
}

export interface OpTable {
  firmware: string;
  version: string;
  commit: string;
  source: string;
  schemaVersion: number;
  dtypes: string[];
  arenaExtra: number;
  /** Profiles whose firmware runs this TFLM backend. */
  profiles: string[];
  builtins: Set<number>;
  builtinNames: string[];
  custom: Set<string>;
  ethosU: { op: string; profiles: string[] };
  nbin?: NbinRequirements;
  file: string;
}

export function builtinOpTableDir(): string {
  return checkoutPath('devices', 'ops');
}

/** Versions with a table, oldest first (v4.7.0 < v4.8.0 < v4.8.1 < v5.0.0). */
export function listOpTables(dir = builtinOpTableDir()): { firmware: string; version: string; file: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^([a-z0-9]+)-(v\d+(?:\.\d+)*)\.yaml$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ firmware: m[1]!, version: m[2]!, file: join(dir, m[0]) }))
    .sort((a, b) => compareVersions(a.version, b.version));
}

export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split('.').map(Number);
  const pb = b.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The table for `version` (e.g. v4.8.1), or the newest when none is given. */
export function loadOpTable(version?: string, dir = builtinOpTableDir()): OpTable {
  const all = listOpTables(dir);
  if (all.length === 0) throw new OpTableError(`${dir}: no op tables (devices/ops/<firmware>-<version>.yaml)`);
  const want = version === undefined ? undefined : version.startsWith('v') ? version : `v${version}`;
  const hit = want === undefined ? all[all.length - 1]! : all.find((t) => t.version === want);
  if (!hit) throw new OpTableError(`--firmware ${version}: no op table for that version (known: ${all.map((t) => t.version).join(', ')})`);
  let raw: unknown;
  try {
    raw = yaml.load(readFileSync(hit.file, 'utf8'));
  } catch (e) {
    throw new OpTableError(`${hit.file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseOpTable(raw, hit.file);
}

function bad(file: string, field: string, msg: string): OpTableError {
  return new OpTableError(`${file}: field '${field}' ${msg}`);
}

function strings(file: string, o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(file, key, 'must be a list of names');
  return v as string[];
}

function int(file: string, o: Record<string, unknown>, key: string, path = key): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad(file, path, `must be a non-negative integer (got ${JSON.stringify(v)})`);
  return v;
}

export function parseOpTable(raw: unknown, file: string): OpTable {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new OpTableError(`${file}: an op table must be a YAML mapping`);
  const o = raw as Record<string, unknown>;
  for (const k of ['firmware', 'version', 'commit', 'source']) if (typeof o[k] !== 'string' || !o[k]) throw bad(file, k, 'must be a non-empty string');
  const builtinNames = strings(file, o, 'builtins');
  const builtins = new Set<number>();
  for (const n of builtinNames) {
    const c = builtinCode(n);
    if (c === undefined) throw bad(file, 'builtins', `names '${n}', which is not a BuiltinOperator of schema.fbs`);
    builtins.add(c);
  }
  const dtypes = strings(file, o, 'dtypes');
  for (const d of dtypes) if (!TENSOR_TYPES.includes(d)) throw bad(file, 'dtypes', `names '${d}', which is not a TensorType of schema.fbs`);
  const e = o.ethosU as Record<string, unknown> | undefined;
  if (!e || typeof e !== 'object' || typeof e.op !== 'string') throw bad(file, 'ethosU', 'must be { op: NAME, profiles: [...] }');
  let nbin: NbinRequirements | undefined;
  if (o.nbin !== undefined) {
    const n = o.nbin as Record<string, unknown>;
    if (!n || typeof n !== 'object') throw bad(file, 'nbin', 'must be a mapping');
    const rt = n.runtime as Record<string, unknown> | undefined;
    if (!rt || typeof rt !== 'object') throw bad(file, 'nbin.runtime', 'must be { major, minor }');
    if (n.secure !== 'required' && n.secure !== 'ignored') throw bad(file, 'nbin.secure', "must be 'required' or 'ignored'");
    if (typeof n.debugInfo !== 'boolean' || typeof n.asyncMode !== 'boolean') throw bad(file, 'nbin.debugInfo', 'and nbin.asyncMode must be true or false');
    nbin = {
      profiles: strings(file, n, 'profiles'),
      runtime: { major: int(file, rt, 'major', 'nbin.runtime.major'), minor: int(file, rt, 'minor', 'nbin.runtime.minor') },
      cpuId: int(file, n, 'cpuId', 'nbin.cpuId'),
      debugInfo: n.debugInfo,
      asyncMode: n.asyncMode,
      secure: n.secure,
      headerBytes: int(file, n, 'headerBytes', 'nbin.headerBytes'),
      atonRuntime: typeof n.atonRuntime === 'string' ? n.atonRuntime : '',
    };
  }
  return {
    firmware: o.firmware as string,
    version: o.version as string,
    commit: o.commit as string,
    source: o.source as string,
    schemaVersion: int(file, o, 'schemaVersion'),
    dtypes,
    arenaExtra: int(file, o, 'arenaExtra'),
    profiles: strings(file, o, 'profiles'),
    builtins,
    builtinNames,
    custom: new Set(strings(file, o, 'custom')),
    ethosU: { op: e.op, profiles: strings(file, e, 'profiles') },
    ...(nbin ? { nbin } : {}),
    file,
  };
}
