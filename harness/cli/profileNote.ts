/** The console line saying which profile hil chose from what the board reported (auto-detection). */
import type { Device } from '../device/types.js';
import { detectedNote } from '../device/identify.js';

/** Writes `hil: DEVICE: profile P (detected: the board reports ...)` when the profile was detected. */
export function noteDetectedProfile(device: Device, out: { write(s: string): unknown } = process.stderr): void {
  if (device.profileDetected && device.identity) out.write(`hil: ${detectedNote(device.name, device.profile, device.identity)}\n`);
}

/** The fields `--json` results carry about the profile choice. */
export function profileJson(device: Device): { profile: string; profileDetected: boolean; identity?: Device['identity'] } {
  return { profile: device.profile.name, profileDetected: device.profileDetected ?? false, identity: device.identity };
}
