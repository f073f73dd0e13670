/**
 * Board profiles: what a board is (partition geometry, alignment rules, .mpy it loads, how it
 * can be flashed, how QEMU emulates it). They live as YAML in `devices/profiles/<name>.yaml`;
 * this module loads and validates them. Nothing here talks to a board.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { ConfigError, UsageError } from '../errors.js';

export type FlashStrategyName = 'rom-ioctl' | 'ram' | 'qemu-loader';
export const FLASH_STRATEGIES: readonly FlashStrategyName[] = ['rom-ioctl', 'ram', 'qemu-loader'];
export const MPY_ARCHS = [
  'bytecode', 'x86', 'x64', 'armv6', 'armv6m', 'armv7m', 'armv7em', 'armv7emsp', 'armv7emdp',
  'xtensa', 'xtensawin', 'rv32imc', 'rv64imc',
] as const;
export type MpyArch = (typeof MPY_ARCHS)[number];

export interface PartitionSpec {
  /** Flash (or RAM) address of the partition's first byte. */
  origin: number;
  /** Size in bytes. */
  size: number;
  medium: 'flash' | 'ram';
  /** Erase block size in bytes (flash only). */
  eraseBlock?: number;
  /** Minimum write size in bytes (flash only). */
  minWrite?: number;
}

export interface BoardProfile {
  name: string;
  description: string;
  partition: PartitionSpec;
  /** Alignment in bytes of model data and of every other file's data, from the image start. */
  align: { models: number; default: number };
  /** Globs (matched on the file's basename, any suffix: `*.tflite` matches `a.int8.tflite`). */
  models: string[];
  /** The .mpy version and native architecture the firmware loads (bytecode always loads). */
  mpy: { version: number; arch: MpyArch };
  flash: { strategies: FlashStrategyName[] };
  /** Present for boards emulated by qemu-system-arm. */
  qemu?: { machine: string };
  /** The file the profile was loaded from. */
  source: string;
}

/** The repository's `devices/profiles` folder (works from sources and from `dist/`). */
export function builtinProfileDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'devices', 'profiles');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new ConfigError('devices/profiles not found next to the hil package');
}

export function listProfiles(dir = builtinProfileDir()): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
}

/**
 * Load a profile by name (from `devices/profiles`) or by path to a YAML file.
 * Throws UsageError for an unknown name and ConfigError naming the file and field when invalid.
 */
export function loadProfile(nameOrPath: string, dir = builtinProfileDir()): BoardProfile {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml');
  const file = isPath ? resolve(nameOrPath) : join(dir, `${nameOrPath}.yaml`);
  if (!existsSync(file)) {
    if (isPath) throw new UsageError(`${nameOrPath}: profile file not found`);
    throw new UsageError(`unknown profile '${nameOrPath}' (known: ${listProfiles(dir).join(', ')})`);
  }
  let raw: unknown;
  try {
    raw = yaml.load(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  return parseProfile(raw, file);
}

function field(file: string, path: string, msg: string): ConfigError {
  return new ConfigError(`${file}: field '${path}' ${msg}`);
}

function num(file: string, obj: Record<string, unknown>, key: string, path: string, optional = false): number | undefined {
  const v = obj[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw field(file, path, `must be a non-negative integer (got ${JSON.stringify(v)})`);
  return v;
}

function pow2(file: string, v: number, path: string): number {
  if (v < 1 || (v & (v - 1)) !== 0) throw field(file, path, `must be a power of two (got ${v})`);
  return v;
}

export function parseProfile(raw: unknown, file: string): BoardProfile {
  if (!raw || typeof raw !== 'object') throw new ConfigError(`${file}: a profile must be a YAML mapping`);
  const o = raw as Record<string, unknown>;
  if (typeof o.name !== 'string' || !o.name) throw field(file, 'name', 'must be a non-empty string');
  const p = o.partition as Record<string, unknown> | undefined;
  if (!p || typeof p !== 'object') throw field(file, 'partition', 'is required');
  const medium = p.medium;
  if (medium !== 'flash' && medium !== 'ram') throw field(file, 'partition.medium', "must be 'flash' or 'ram'");
  const partition: PartitionSpec = {
    origin: num(file, p, 'origin', 'partition.origin')!,
    size: num(file, p, 'size', 'partition.size')!,
    medium,
    eraseBlock: num(file, p, 'eraseBlock', 'partition.eraseBlock', true),
    minWrite: num(file, p, 'minWrite', 'partition.minWrite', true),
  };
  if (partition.size === 0) throw field(file, 'partition.size', 'must be greater than zero');
  const a = o.align as Record<string, unknown> | undefined;
  if (!a || typeof a !== 'object') throw field(file, 'align', 'is required');
  const align = {
    models: pow2(file, num(file, a, 'models', 'align.models')!, 'align.models'),
    default: pow2(file, num(file, a, 'default', 'align.default')!, 'align.default'),
  };
  const models = o.models ?? ['*.tflite'];
  if (!Array.isArray(models) || !models.every((m) => typeof m === 'string')) throw field(file, 'models', 'must be a list of globs');
  const m = o.mpy as Record<string, unknown> | undefined;
  if (!m || typeof m !== 'object') throw field(file, 'mpy', 'is required');
  const arch = m.arch;
  if (typeof arch !== 'string' || !(MPY_ARCHS as readonly string[]).includes(arch)) throw field(file, 'mpy.arch', `must be one of ${MPY_ARCHS.join(', ')}`);
  const f = (o.flash as Record<string, unknown> | undefined) ?? { strategies: ['rom-ioctl'] };
  const strategies = f.strategies;
  if (!Array.isArray(strategies) || strategies.length === 0 || !strategies.every((s) => (FLASH_STRATEGIES as readonly string[]).includes(s as string))) {
    throw field(file, 'flash.strategies', `must be a non-empty list of ${FLASH_STRATEGIES.join(', ')}`);
  }
  let qemu: BoardProfile['qemu'];
  if (o.qemu !== undefined) {
    const q = o.qemu as Record<string, unknown>;
    if (!q || typeof q.machine !== 'string') throw field(file, 'qemu.machine', 'must be a string');
    qemu = { machine: q.machine };
  }
  return {
    name: o.name,
    description: typeof o.description === 'string' ? o.description : o.name,
    partition,
    align,
    models: models as string[],
    mpy: { version: num(file, m, 'version', 'mpy.version')!, arch: arch as MpyArch },
    flash: { strategies: strategies as FlashStrategyName[] },
    qemu,
    source: file,
  };
}
