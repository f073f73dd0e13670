/** The configuration the supervisor hands to a simulated board process. */
import type { FirmwareApi, FirmwarePort, ModelFormat, PartitionSpec } from '../profile/profile.js';

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

export type SimNpu = 'ethos-u' | 'stai';
export type SimMlFault = 'stale';

export interface BoardConfig {
  name: string;
  banner: string;
  /** The firmware personality: the MicroPython port and its ROM-ioctl API generation. */
  firmware: { port: FirmwarePort; api: FirmwareApi };
  /** Every ROMFS segment, by number (segment 0 is mounted at /rom). */
  segments: PartitionSpec[];
  /** One backing file per segment: always holds the segment's bytes (erases and writes land as they happen). */
  segmentFiles: string[];
  alignModels: number;
  modelFormat: ModelFormat;
  /**
   * The NPU runtime the board's `ml` has: `ethos-u` (the AE3's Ethos-U55: a misaligned Ethos-U
   * model fails to invoke), `stai` (the N6's ST Edge AI runtime: NBIN only, aligned), or none.
   */
  npu?: SimNpu;
  /** A test-only fault of the simulated ml: `stale` runs the previously loaded model's network (openmv PR 3276). */
  mlFault?: SimMlFault;
  /** stm32: the firmware's pyb.fault_debug(True): a HardFault prints its dump and stops the board instead of resetting it. */
  faultDebug?: boolean;
  /** While this file exists, erase and write fail (-EIO; OSError on a block device). */
  failWritesFlag: string;
  mainPy?: string;
  heapSize: number;
  /** Reported by sys.platform, sys.implementation and os.uname() (harness/device/identify.ts reads them). */
  identity: SimIdentity;
  /** machine.unique_id() in hex (absent: derived from the board's name, the same for every board of a profile). */
  uniqueId?: string;
}
