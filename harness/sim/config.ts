/** The configuration the supervisor hands to a simulated board process. */
import type { PartitionSpec } from '../profile/profile.js';

/**
 * What the simulated board's firmware reports about itself, as the real board's does (from the
 * profile's `identify` and `mpy`): `sys.platform`, `sys.implementation._machine` and `_mpy`, and
 * whether the port has `os.uname()` (stm32, mimxrt and alif do; the qemu port does not).
 */
export interface SimIdentity {
  platform: string;
  machine: string;
  mpy: number;
  uname: boolean;
}

export interface BoardConfig {
  name: string;
  banner: string;
  partition: PartitionSpec;
  alignModels: number;
  /** The partition's backing file (its first bytes are the ROMFS image). */
  romfsFile: string;
  /** While this file exists, rom_ioctl erase and write return -EIO. */
  failWritesFlag: string;
  mainPy?: string;
  heapSize: number;
  /** Reported by sys.platform, sys.implementation and os.uname() (harness/device/identify.ts reads them). */
  identity: SimIdentity;
}
