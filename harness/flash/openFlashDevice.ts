/**
 * Open the board `hil flash --device D [--profile P]` names, through the device layer.
 * The profile given on the command line wins; otherwise the device layer's resolution applies.
 */
import type { Device } from '../device/types.js';
import { loadProfile, type BoardProfile } from '../profile/profile.js';
import { UsageError } from '../errors.js';

export async function openFlashDevice(device: string, profile?: string): Promise<Device> {
  const p = profile ? loadProfile(profile) : undefined;
  if (!p) throw new UsageError(`device ${device}: give --profile (the board profile decides alignment and strategies)`);
  const spec = '../device/index.js';
  const dev = (await import(spec)) as { openDevice(opts: { connection: string; profile: BoardProfile }): Promise<Device> };
  return dev.openDevice({ connection: device, profile: p });
}
