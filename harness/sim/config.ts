/** The configuration the supervisor hands to a simulated board process. */
import type { PartitionSpec } from '../profile/profile.js';

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
}
