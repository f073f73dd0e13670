/**
 * Which board is this? On connect hil reads the board's identity once (one sealed query: the
 * board program `harness/board/device/identify.py`) and holds it against the board profiles
 * (`identify` in devices/profiles/*.yaml: `sys.platform`, `sys.implementation._machine`, segment
 * 0's address and size):
 * - without a profile, the one profile that matches is picked (and the caller says so); none or
 *   several matching is bad input (exit 2), naming what the board reported and the candidates;
 * - with a profile the board contradicts (an AN500 run as AN385, an RT1062 as an H7), hil stops
 *   before any check or write: exit 2, naming the profile and what the board reports.
 */
import { ExitCode, HilError, InfraError } from '../errors.js';
import { MPY_ARCHS, type BoardProfile, type MpyArch } from '../profile/profile.js';
import { compactBoardProgram } from '../board/program.js';
import { querySealed } from './sealed.js';
import type { Device } from './types.js';

/** One ROMFS segment as `vfs.rom_ioctl(2, id)` gave it. */
export interface SegmentIdentity {
  id: number;
  /** `memoryview` (stm32, alif, qemu), `blockdev` (mimxrt.Flash), or `errno` (a negative errno came back). */
  access: 'memoryview' | 'blockdev' | 'errno';
  /** Address from `uctypes.addressof` (null: no uctypes, or the object has no buffer). */
  origin: number | null;
  /** Bytes: `len()` of the memoryview, block count x block size of a block device (null: unknown). */
  size: number | null;
  errno?: number;
}

/** What the board reported about itself. A field the firmware lacks is null. */
export interface BoardIdentity {
  /** `sys.platform`. */
  platform: string;
  /** `sys.implementation._machine` (else `os.uname().machine`). */
  machine: string | null;
  /** `sys.implementation._mpy`, decoded: .mpy version, sub-version and native architecture. */
  mpy: { raw: number; version: number; subVersion: number; arch: MpyArch | null } | null;
  /** `sys.implementation.name` and version, e.g. `micropython` 1.27.0. */
  implementation: { name: string | null; version: string | null };
  uname: { sysname: string; nodename: string; release: string; version: string; machine: string } | null;
  /** Every segment `rom_ioctl(1)` counts; null when the firmware has no `vfs.rom_ioctl`. */
  segments: SegmentIdentity[] | null;
  /** `machine.unique_id()` in hex (null where the port has none). */
  uniqueId: string | null;
  /** True when the firmware has `deflate.DeflateIO` (sealed requests may go packed: sealed.ts). */
  inflate?: boolean;
}

/** The board and the profile do not agree, or no single profile fits the board. Bad input: exit 2. */
export class BoardIdentityError extends HilError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) ? v : null);

/** Decodes `sys.implementation._mpy` (py/persistentcode.h: version | (sub | arch << 2) << 8). */
export function decodeMpy(raw: number): NonNullable<BoardIdentity['mpy']> {
  const feat = (raw >> 8) & 0xff;
  return { raw, version: raw & 0xff, subVersion: feat & 3, arch: MPY_ARCHS[feat >> 2] ?? null };
}

/** The identity program's answer, checked and normalised (anything malformed reads as unknown). */
export function parseIdentity(raw: unknown): BoardIdentity {
  const o = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const platform = str(o.platform);
  if (platform === null) throw new HilError(`board identity without sys.platform: ${JSON.stringify(raw)?.slice(0, 120)}`, ExitCode.INFRA);
  const u = o.uname && typeof o.uname === 'object' ? (o.uname as Record<string, unknown>) : null;
  const uname = u && ['sysname', 'nodename', 'release', 'version', 'machine'].every((k) => typeof u[k] === 'string')
    ? (u as BoardIdentity['uname'])
    : null;
  const mpyRaw = int(o.mpy);
  const v = Array.isArray(o.version) ? o.version.filter((x) => typeof x === 'number') : null;
  const segments = Array.isArray(o.segments)
    ? o.segments.map((s, i): SegmentIdentity => {
        const x = s && typeof s === 'object' ? (s as Record<string, unknown>) : {};
        const access = x.access === 'blockdev' || x.access === 'errno' ? x.access : 'memoryview';
        const seg: SegmentIdentity = { id: int(x.id) ?? i, access, origin: int(x.origin), size: int(x.size) };
        if (access === 'errno') seg.errno = int(x.errno) ?? undefined;
        return seg;
      })
    : null;
  return {
    platform,
    machine: str(o.machine) ?? uname?.machine ?? null,
    mpy: mpyRaw === null ? null : decodeMpy(mpyRaw),
    implementation: { name: str(o.name), version: v && v.length ? v.join('.') : null },
    uname,
    segments,
    uniqueId: str(o.uniqueId),
    ...(o.inflate === true ? { inflate: true } : {}),
  };
}

/**
 * Deadline of the identity query when the caller gives none: it is a few kilobytes out and one line back
 * (well under a second at 115200 baud), so a board that entered the raw REPL but runs nothing is
 * found out in seconds, not after the 30 s a user program may take.
 */
export const IDENTIFY_TIMEOUT_MS = 10_000;

/** Reads the board's identity: one sealed query (reads only, so a damaged answer is asked again). */
export async function readIdentity(device: Device, opts: { timeoutMs?: number } = {}): Promise<BoardIdentity> {
  const { value } = await querySealed<unknown>(device, compactBoardProgram('device/identify'), { phase: 'identify', idempotent: true, timeoutMs: opts.timeoutMs ?? IDENTIFY_TIMEOUT_MS });
  return parseIdentity(value);
}

/**
 * Another board answered where the run's board was (its unique id differs from the one the run
 * saw): an infrastructure error (class board), after which nothing more is written to it.
 */
export const OTHER_BOARD_PHASE = 'other-board';

export class OtherBoardError extends InfraError {
  constructor(message: string, phase: string, readonly expected: string, readonly got: string) {
    super(message, phase);
  }
}

/**
 * The one identity comparison (the recovery ladder's, a crash's recovery, a reopened board):
 * throws OtherBoardError when `got` is provably another board than `expected` (both report a
 * unique id, and they differ). Without a unique id on either side nothing can be proven.
 */
export function checkSameBoard(name: string, expected: BoardIdentity | undefined, got: BoardIdentity | undefined, phase = 'recover'): void {
  const a = expected?.uniqueId;
  const b = got?.uniqueId;
  if (a && b && a !== b) throw new OtherBoardError(`${name}: a different board answered (unique id ${b}, the run saw ${a})`, phase, a, b);
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;

export function formatSize(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function formatSegment(origin: number | null | undefined, size: number | null | undefined): string {
  const at = origin === null || origin === undefined ? 'address unknown' : hex(origin);
  return size === null || size === undefined ? at : `${at} ${formatSize(size)}`;
}

/** One line: what the board reported (`platform X, machine 'Y', ROMFS0 0x... 4 MiB`). */
export function describeIdentity(id: BoardIdentity): string {
  const parts = [`platform ${id.platform}`, id.machine === null ? 'no _machine' : `machine '${id.machine}'`];
  if (id.segments === null) parts.push('no vfs.rom_ioctl');
  else if (id.segments.length === 0) parts.push('no ROMFS segment');
  else {
    const s0 = id.segments[0]!;
    parts.push(s0.access === 'errno' ? `ROMFS0 errno ${s0.errno}` : `ROMFS0 ${formatSegment(s0.origin, s0.size)}`);
    if (id.segments.length > 1) parts.push(`${id.segments.length} segments`);
  }
  return parts.join(', ');
}

/** One line: what a profile expects the board to report. */
export function describeExpected(p: BoardProfile): string {
  const e = p.identify;
  const parts = [`platform ${e.platform}`];
  if (e.machine !== undefined) parts.push(`machine '${e.machine}'`);
  if (e.origin !== undefined || e.size !== undefined) parts.push(`ROMFS0 ${formatSegment(e.origin, e.size)}`);
  return parts.join(', ');
}

/**
 * Where the board contradicts the profile's `identify` (empty: it matches). A field the board
 * could not report (no `_machine`, a segment without an address) contradicts nothing.
 */
export function contradictions(id: BoardIdentity, p: BoardProfile): string[] {
  const e = p.identify;
  const out: string[] = [];
  if (id.platform !== e.platform) out.push(`sys.platform ${JSON.stringify(id.platform)} (expected ${JSON.stringify(e.platform)})`);
  if (e.machine !== undefined && id.machine !== null && id.machine !== e.machine) out.push(`machine ${JSON.stringify(id.machine)} (expected ${JSON.stringify(e.machine)})`);
  if (e.origin !== undefined || e.size !== undefined) {
    const s0 = id.segments?.[0];
    if (id.segments !== null && !s0) out.push('no ROMFS segment');
    else if (s0?.access === 'errno') out.push(`rom_ioctl(2, 0) = ${s0.errno}`);
    else if (s0) {
      if (e.origin !== undefined && s0.origin !== null && s0.origin !== e.origin) out.push(`ROMFS0 at ${hex(s0.origin)} (expected ${hex(e.origin)})`);
      if (e.size !== undefined && s0.size !== null && s0.size !== e.size) out.push(`ROMFS0 of ${formatSize(s0.size)} (expected ${formatSize(e.size)})`);
    }
  }
  return out;
}

/** The profiles the board's identity matches. */
export function matchProfiles(id: BoardIdentity, profiles: readonly BoardProfile[]): BoardProfile[] {
  return profiles.filter((p) => contradictions(id, p).length === 0);
}

export interface ProfileChoice {
  profile: BoardProfile;
  /** True when hil picked it from the board's identity (no profile was given). */
  detected: boolean;
}

/**
 * The profile to drive the board with. `given`: the profile the user or bench file named (the
 * board must not contradict it); without it, the one profile in `candidates` the board matches.
 * Throws BoardIdentityError (exit 2) with one line naming the board `name`, what it reports and
 * the profile(s) concerned.
 */
export function chooseProfile(name: string, id: BoardIdentity, given: BoardProfile | undefined, candidates: readonly BoardProfile[]): ProfileChoice {
  const reports = describeIdentity(id);
  if (given) {
    const c = contradictions(id, given);
    if (c.length === 0) return { profile: given, detected: false };
    const fits = matchProfiles(id, candidates).map((p) => p.name);
    const hint = fits.length ? `; the board matches ${fits.join(', ')}` : '';
    throw new BoardIdentityError(`${name}: profile ${given.name} does not fit this board: it reports ${reports}, but ${given.name} expects ${describeExpected(given)}${hint}; nothing was written`);
  }
  const fits = matchProfiles(id, candidates);
  if (fits.length === 1) return { profile: fits[0]!, detected: true };
  if (fits.length > 1) {
    throw new BoardIdentityError(`${name}: the board reports ${reports}, which matches several profiles (${fits.map((p) => p.name).join(', ')}); give --profile`);
  }
  const near = candidates.filter((p) => p.identify.platform === id.platform).map((p) => p.name);
  const known = near.length ? `profiles for platform ${id.platform}: ${near.join(', ')}` : `known: ${candidates.map((p) => p.name).join(', ')}`;
  throw new BoardIdentityError(`${name}: no profile matches the board: it reports ${reports} (${known}); give --profile with a profile file for this board`);
}

/** The console line saying which profile was picked, and why. */
export function detectedNote(name: string, profile: BoardProfile, id: BoardIdentity): string {
  return `${name}: profile ${profile.name} (detected: the board reports ${describeIdentity(id)})`;
}
