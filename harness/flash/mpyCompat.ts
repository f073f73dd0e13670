/**
 * Can this board load this `.mpy` file? Compares the file header (`M`, version, feature byte)
 * with the board's `sys.implementation._mpy` (low byte version, next byte feature:
 * arch << 2 | sub-version, as MicroPython's persistentcode.h encodes it).
 * Rules: version must match; bytecode (arch 0) loads anywhere with that version; native code also
 * needs the same sub-version; Thumb
 * firmware (armv6m .. armv7emdp) loads native code from armv6m up to its own arch; any other
 * firmware needs the exact arch. The small-int-bits byte is not checked (the board does not
 * report its own).
 */
import { MPY_ARCHS, type MpyArch } from '../profile/profile.js';

export interface MpyFeatures {
  version: number;
  arch: number;
  /** Unknown when taken from a profile rather than from the board. */
  subVersion?: number;
}

const ARMV6M = 4;
const ARMV7EMDP = 8;

export function archName(arch: number): string {
  return (MPY_ARCHS as readonly string[])[arch] ?? `arch${arch}`;
}

export function archNumber(name: MpyArch): number {
  return (MPY_ARCHS as readonly string[]).indexOf(name);
}

/** Decode the board's `sys.implementation._mpy` value. */
export function decodeBoardMpy(value: number): MpyFeatures {
  const feature = (value >> 8) & 0xff;
  return { version: value & 0xff, arch: (feature >> 2) & 0x2f, subVersion: feature & 3 };
}

/** Decode an `.mpy` file header; undefined when the bytes are not an `.mpy` header at all. */
export function decodeMpyHeader(bytes: Uint8Array): MpyFeatures | undefined {
  if (bytes.length < 4 || bytes[0] !== 0x4d /* M */) return undefined;
  const feature = bytes[2]!;
  return { version: bytes[1]!, arch: (feature >> 2) & 0x2f, subVersion: feature & 3 };
}

/** Why the board cannot load a file with these features, or undefined when it can. */
export function mpyIncompatibility(file: MpyFeatures, board: MpyFeatures): string | undefined {
  if (file.version !== board.version) return `.mpy version ${file.version}, board loads version ${board.version}`;
  // MicroPython checks the sub-version only for native code (persistentcode.c); bytecode-only
  // files (arch 0) of the same version load whatever their sub-version (verified: a sub-version 0
  // .mpy from @pybricks/mpy-cross-v6 imports on MicroPython 1.27, _mpy sub-version 3).
  if (file.arch === 0) return undefined;
  if (board.subVersion !== undefined && file.subVersion !== board.subVersion) {
    return `.mpy sub-version ${file.subVersion}, board loads sub-version ${board.subVersion}`;
  }
  const boardIsThumb = board.arch >= ARMV6M && board.arch <= ARMV7EMDP;
  const ok = boardIsThumb ? file.arch >= ARMV6M && file.arch <= board.arch : file.arch === board.arch;
  if (ok) return undefined;
  if (board.arch === 0) return `native code for ${archName(file.arch)}, board firmware loads bytecode only`;
  return `native code for ${archName(file.arch)}, board loads ${archName(board.arch)}`;
}
