/**
 * Board profiles: what a board is (partition geometry, alignment rules, .mpy it loads, how it
 * can be flashed, how QEMU emulates it). They live as YAML in `devices/profiles/<name>.yaml`;
 * this module loads and validates them. Nothing here talks to a board.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import yaml from 'js-yaml';
import { ConfigError, UsageError } from '../errors.js';
import { checkoutPath } from '../checkout.js';

export type FlashStrategyName = 'rom-ioctl' | 'blockdev' | 'dfu' | 'ram' | 'qemu-loader';
export const FLASH_STRATEGIES: readonly FlashStrategyName[] = ['rom-ioctl', 'blockdev', 'dfu', 'ram', 'qemu-loader'];

/** The MicroPython port a board's firmware is built from (`sys.platform`). */
export type FirmwarePort = 'stm32' | 'mimxrt' | 'alif' | 'qemu';
export const FIRMWARE_PORTS: readonly FirmwarePort[] = ['stm32', 'mimxrt', 'alif', 'qemu'];
/**
 * Generation of the `vfs.rom_ioctl` API (../shared/docs/firmware.md): `released` is every
 * MicroPython tag up to v1.29.0-preview, so every OpenMV release (commands 1-5; the 3-argument
 * erase from the segment start; 5 and 6 answer -22); `master` adds the ranged erase and command 6.
 */
export type FirmwareApi = 'released' | 'master';
export const FIRMWARE_APIS: readonly FirmwareApi[] = ['released', 'master'];
/** What holds a ROMFS segment: decides erase/write physics. */
export type SegmentDevice = 'internal-flash' | 'qspi' | 'ospi' | 'xspi' | 'mram' | 'ram';
export const SEGMENT_DEVICES: readonly SegmentDevice[] = ['internal-flash', 'qspi', 'ospi', 'xspi', 'mram', 'ram'];
/** What `vfs.rom_ioctl(2, id)` returns for the segment: a memoryview, or (RT1062) a block device object. */
export type SegmentAccess = 'memoryview' | 'blockdev';
export type ModelFormat = 'tflite' | 'nbin';
export const MODEL_FORMATS: readonly ModelFormat[] = ['tflite', 'nbin'];
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
  /** The part that holds it (physics of erase and write follow from it). Default: qspi for flash, ram. */
  device: SegmentDevice;
  /** What `rom_ioctl(2, id)` gives: a memoryview (default) or a block device object (RT1062). */
  access: SegmentAccess;
  /** Erase block size in bytes (flash only). */
  eraseBlock?: number;
  /** Minimum write size the firmware reports (the answer of `rom_ioctl(3, id, 0)`; flash only). */
  minWrite?: number;
  /**
   * The unit the medium really programs, when larger than what the firmware reports: the H7's
   * internal flash reports 16 but programs 32-byte flash words at 32-byte offsets
   * (ports/stm32/flash.c). Writes must be whole units at unit-aligned offsets. Default: minWrite.
   */
  writeUnit?: number;
}

/** A USB VID:PID pair. */
export interface UsbId { vid: number; pid: number }

/** How the board's bootloader takes a ROMFS image (OpenMV IDE's path, ../shared/docs/firmware.md). */
export interface DfuSpec {
  /** The application's VID:PID (the REPL's USB serial port). */
  app: UsbId;
  /** Which loader: OpenMV's DFU bootloader, Arduino's DFU (dfuse address), or NXP's ROM loader (not dfu-util). */
  loader: 'openmv' | 'arduino' | 'nxp';
  /** The bootloader's VID:PID (absent for the NXP loader). */
  bootloader?: UsbId;
  /** dfu-util `-a` alt setting per segment number. */
  alt?: Record<number, number>;
  /** Arduino DFU: `-s ADDRESS:leave`. */
  address?: number;
}

/**
 * How to recognise the board from what its firmware reports over the REPL (harness/device/identify.ts
 * reads it on connect). Every given field must equal what the board reports; a field the board
 * cannot report (no `_machine` on old firmware, no address for a segment) is not held against it.
 */
export interface IdentifySpec {
  /** `sys.platform` exactly (`MICROPY_PY_SYS_PLATFORM`: "OpenMV4-H7", "pyboard", "mimxrt", "qemu"...). */
  platform: string;
  /** `sys.implementation._machine` exactly: MICROPY_HW_BOARD_NAME " with " MICROPY_HW_MCU_NAME. */
  machine?: string;
  /** Segment 0 as `rom_ioctl(2, 0)` reports it: address (`uctypes.addressof`) and size in bytes. */
  origin?: number;
  size?: number;
}

export interface BoardProfile {
  name: string;
  description: string;
  /** Segment 0 (the ROMFS mounted at /rom): `segments[0]`. */
  partition: PartitionSpec;
  /** Every ROMFS segment the board has, by number (the AE3 has two). */
  segments: PartitionSpec[];
  /** The firmware the board ships: MicroPython port and ROM-ioctl API generation (its personality). */
  firmware: { port: FirmwarePort; api: FirmwareApi };
  /** The model format the board's `ml` runs (the N6: ST NBIN only; the others: TFLite). */
  modelFormat: ModelFormat;
  /**
   * Bytes of RAM the firmware can give `ml` for a TFLite tensor arena: the largest GC heap block
   * (OMV_GC_BLOCKn_SIZE in OpenMV's boards/<BOARD>/board_config.h), since OpenMV's TFLM backend
   * takes the largest free GC block as its arena (lib/tflm/tflm_backend.cc). An upper bound: the
   * running program's objects and the GC's tables take part of it. Absent: not known, the arena
   * check is skipped (harness/model/check.ts).
   */
  mlRam?: number;
  /** Present where the board has a DFU bootloader hil can drive (or an NXP loader it cannot). */
  dfu?: DfuSpec;
  identify: IdentifySpec;
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
  return checkoutPath('devices', 'profiles');
}

export function listProfiles(dir = builtinProfileDir()): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
}

/**
 * The profile as segment `n` sees it: `partition` is segment n (origin, size, medium), so image
 * building and verifying judge sizes and addresses against that segment (the AE3's segment 1 is
 * MRAM at 0x8047E000, 1 MiB). Segment 0 is the profile itself.
 */
export function profileForSegment(p: BoardProfile, n: number): BoardProfile {
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--segment must be a non-negative integer (got ${n})`);
  const seg = p.segments[n];
  if (!seg) throw new UsageError(`--segment ${n}: profile ${p.name} has ${p.segments.length === 1 ? 'segment 0 only' : `segments 0 to ${p.segments.length - 1}`}`);
  return n === 0 ? p : { ...p, partition: seg };
}

/** Every profile in `dir` (the candidates auto-detection chooses from). */
export function loadAllProfiles(dir = builtinProfileDir()): BoardProfile[] {
  return listProfiles(dir).map((n) => loadProfile(n, dir));
}

/**
 * loadProfile for many boards at once (a bench of 16 cams of one model names one profile 16
 * times): each profile is read and checked once per loader, and every call gets its own copy,
 * as if it had been read again, so no two boards share a profile object.
 */
export function profileLoader(dir?: string): (nameOrPath: string) => BoardProfile {
  const read = new Map<string, BoardProfile>();
  return (nameOrPath) => {
    const seen = read.get(nameOrPath);
    if (seen) return structuredClone(seen);
    const p = loadProfile(nameOrPath, dir);
    read.set(nameOrPath, structuredClone(p));
    return p;
  };
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
  const partition = parseSegment(file, p, 'partition');
  const extra = o.segments ?? [];
  if (!Array.isArray(extra)) throw field(file, 'segments', 'must be a list of further segments (segment 0 is partition)');
  const segments = [partition, ...extra.map((x, i) => {
    if (!x || typeof x !== 'object') throw field(file, `segments[${i}]`, 'must be a mapping');
    return parseSegment(file, x as Record<string, unknown>, `segments[${i}]`);
  })];
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
  const fw = o.firmware as Record<string, unknown> | undefined;
  if (!fw || typeof fw !== 'object') throw field(file, 'firmware', 'is required (port and api)');
  const port = oneOf(file, fw.port, FIRMWARE_PORTS, 'firmware.port');
  const api = fw.api === undefined ? 'released' : oneOf(file, fw.api, FIRMWARE_APIS, 'firmware.api');
  const modelFormat = o.modelFormat === undefined ? 'tflite' : oneOf(file, o.modelFormat, MODEL_FORMATS, 'modelFormat');
  const mlRam = num(file, o, 'mlRam', 'mlRam', true);
  if (mlRam === 0) throw field(file, 'mlRam', 'must be greater than zero (leave it out when not known)');
  const dfu = o.dfu === undefined ? undefined : parseDfu(file, o.dfu);
  const identify = parseIdentify(file, o.identify);
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
    segments,
    firmware: { port, api },
    modelFormat,
    ...(mlRam !== undefined ? { mlRam } : {}),
    dfu,
    identify,
    align,
    models: models as string[],
    mpy: { version: num(file, m, 'version', 'mpy.version')!, arch: arch as MpyArch },
    flash: { strategies: strategies as FlashStrategyName[] },
    qemu,
    source: file,
  };
}

function parseIdentify(file: string, raw: unknown): IdentifySpec {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw field(file, 'identify', 'is required: a mapping with platform (sys.platform) and machine (sys.implementation._machine)');
  const o = raw as Record<string, unknown>;
  if (typeof o.platform !== 'string' || !o.platform) throw field(file, 'identify.platform', 'must be the sys.platform the firmware reports (a non-empty string)');
  const identify: IdentifySpec = { platform: o.platform };
  if (o.machine !== undefined) {
    if (typeof o.machine !== 'string' || !o.machine) throw field(file, 'identify.machine', 'must be the sys.implementation._machine the firmware reports (a non-empty string)');
    identify.machine = o.machine;
  }
  if (o.origin !== undefined) identify.origin = num(file, o, 'origin', 'identify.origin');
  if (o.size !== undefined) identify.size = num(file, o, 'size', 'identify.size');
  for (const k of Object.keys(o)) {
    if (!['platform', 'machine', 'origin', 'size'].includes(k)) throw field(file, `identify.${k}`, 'is not an identity field (platform, machine, origin, size)');
  }
  return identify;
}

function oneOf<T extends string>(file: string, v: unknown, allowed: readonly T[], path: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw field(file, path, `must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
  return v as T;
}

function parseSegment(file: string, p: Record<string, unknown>, path: string): PartitionSpec {
  const medium = p.medium;
  if (medium !== 'flash' && medium !== 'ram') throw field(file, `${path}.medium`, "must be 'flash' or 'ram'");
  const device = p.device === undefined ? (medium === 'ram' ? 'ram' : 'qspi') : oneOf(file, p.device, SEGMENT_DEVICES, `${path}.device`);
  if ((device === 'ram') !== (medium === 'ram')) throw field(file, `${path}.device`, `'${device}' does not fit medium '${medium}'`);
  const access = p.access === undefined ? 'memoryview' : oneOf(file, p.access, ['memoryview', 'blockdev'] as const, `${path}.access`);
  const seg: PartitionSpec = {
    origin: num(file, p, 'origin', `${path}.origin`)!,
    size: num(file, p, 'size', `${path}.size`)!,
    medium,
    device,
    access,
    eraseBlock: num(file, p, 'eraseBlock', `${path}.eraseBlock`, true),
    minWrite: num(file, p, 'minWrite', `${path}.minWrite`, true),
    writeUnit: num(file, p, 'writeUnit', `${path}.writeUnit`, true),
  };
  if (seg.size === 0) throw field(file, `${path}.size`, 'must be greater than zero');
  for (const k of ['eraseBlock', 'minWrite', 'writeUnit'] as const) {
    const v = seg[k];
    if (v !== undefined) pow2(file, v, `${path}.${k}`);
  }
  if (medium === 'flash' && (seg.eraseBlock === undefined || seg.minWrite === undefined)) {
    throw field(file, `${path}.eraseBlock`, 'and minWrite are required for a flash segment');
  }
  return seg;
}

function usbId(file: string, v: unknown, path: string): UsbId {
  const m = typeof v === 'string' ? /^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$/.exec(v) : null;
  if (!m) throw field(file, path, `must be VID:PID in hex, e.g. 37C5:1204 (got ${JSON.stringify(v)})`);
  return { vid: parseInt(m[1]!, 16), pid: parseInt(m[2]!, 16) };
}

function parseDfu(file: string, raw: unknown): DfuSpec {
  if (!raw || typeof raw !== 'object') throw field(file, 'dfu', 'must be a mapping');
  const d = raw as Record<string, unknown>;
  const loader = oneOf(file, d.loader, ['openmv', 'arduino', 'nxp'] as const, 'dfu.loader');
  const spec: DfuSpec = { app: usbId(file, d.app, 'dfu.app'), loader };
  if (loader !== 'nxp') spec.bootloader = usbId(file, d.bootloader, 'dfu.bootloader');
  if (d.alt !== undefined) {
    if (!d.alt || typeof d.alt !== 'object') throw field(file, 'dfu.alt', 'must map segment numbers to alt settings');
    spec.alt = {};
    for (const [k, v] of Object.entries(d.alt as Record<string, unknown>)) {
      if (!/^\d+$/.test(k) || typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw field(file, `dfu.alt.${k}`, 'must map a segment number to a non-negative alt setting');
      spec.alt[Number(k)] = v;
    }
  } else if (loader !== 'nxp') throw field(file, 'dfu.alt', 'is required for a DFU bootloader');
  if (d.address !== undefined) spec.address = num(file, d, 'address', 'dfu.address');
  return spec;
}

/** Format a USB id as the DFU tools print it (lower-case hex, VID:PID). */
export function formatUsbId(id: UsbId): string {
  return `${id.vid.toString(16).padStart(4, '0')}:${id.pid.toString(16).padStart(4, '0')}`;
}
