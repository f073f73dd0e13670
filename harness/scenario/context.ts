/** What a check is given: the open board, its profile, the image the scenario expects on it. */
import type { Device } from '../device/types.js';
import type { BoardProfile } from '../profile/profile.js';
import type { RomfsEntry } from '../romfs/parse.js';
import type { FirmwareView } from '../romfs/firmwareView.js';
import type { PreparedImage } from '../flash/prepareImage.js';
import type { ScenarioDefinition } from './definition.js';
import type { CheckResult } from './result.js';

export interface ImageFile {
  path: string;
  offset: number;
  size: number;
  sha256: string;
}

export interface ScenarioImage {
  /** Where it came from, for messages. */
  source: string;
  kind: 'source' | 'config' | 'img';
  /** The image record's bytes (what is flashed). */
  bytes: Uint8Array;
  sha256: string;
  entries: RomfsEntry[];
  files: ImageFile[];
  /**
   * What a board's firmware sees in these bytes (harness/romfs/firmwareView.ts): what `/rom`
   * must list. Computed once per image (when first read), so a bench's boards share it.
   */
  readonly firmware: FirmwareView;
  /** The image as the flash checks it (harness/flash/prepareImage.ts, strict parse), once per image. */
  prepared: PreparedImage;
}

export interface CheckContext {
  device: Device;
  profile: BoardProfile;
  image: ScenarioImage;
  scenario: ScenarioDefinition;
  /** The board is hil's simulated board: a model check can at best be `simulated`, never `passed`. */
  simulatedBoard: boolean;
  /** `hil run --record-golden`: the models check writes golden outputs instead of comparing. */
  recordGolden?: boolean;
  /** Deadline for each board round trip of the check. */
  timeoutMs: number;
  /** Append a line to this device's log (kept under --out). */
  log: (line: string) => void;
}

export type CheckFn = (ctx: CheckContext, options: Record<string, unknown>) => Promise<CheckResult | CheckResult[]>;
