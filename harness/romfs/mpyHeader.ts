/**
 * `.mpy` header: `M`, version, feature byte (arch << 2 | sub-version), small-int bits.
 * Load rule (MicroPython persistentcode): the version must match; bytecode (arch 0) loads on
 * any firmware; Thumb firmware (armv6m .. armv7emdp) loads native code from armv6m up to its
 * own arch; other firmware needs the exact arch.
 */
import { MPY_ARCHS, type MpyArch } from '../profile/profile.js';

export interface MpyHeader {
  version: number;
  /** Architecture number (0 = bytecode only). */
  arch: number;
  archName: string;
  subVersion: number;
  smallIntBits: number;
}

export function mpyArchName(arch: number): string {
  return (MPY_ARCHS as readonly string[])[arch] ?? `arch${arch}`;
}

/** Decode an `.mpy` header; undefined when the bytes do not start with one. */
export function mpyHeader(bytes: Uint8Array): MpyHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0x4d) return undefined;
  const version = bytes[1]!;
  if (version < 1 || version > 16) return undefined;
  const feature = bytes[2]!;
  const arch = (feature >> 2) & 0x0f;
  return { version, arch, archName: mpyArchName(arch), subVersion: feature & 3, smallIntBits: bytes[3]! };
}

const ARMV6M = 4;
const ARMV7EMDP = 8;

/** Why firmware for (version, arch) cannot load this header; undefined when it can. */
export function mpyLoadProblem(h: MpyHeader, firmware: { version: number; arch: MpyArch }): string | undefined {
  if (h.version !== firmware.version) return `.mpy version ${h.version}, firmware loads version ${firmware.version}`;
  if (h.arch === 0) return undefined;
  const fw = (MPY_ARCHS as readonly string[]).indexOf(firmware.arch);
  const thumb = fw >= ARMV6M && fw <= ARMV7EMDP;
  const ok = thumb ? h.arch >= ARMV6M && h.arch <= fw : h.arch === fw;
  if (ok) return undefined;
  return `native code for ${h.archName}, firmware loads ${fw === 0 ? 'bytecode only' : `${firmware.arch}${thumb ? ' (or older Thumb)' : ''}`}`;
}
