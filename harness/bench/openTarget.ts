/** Open a bench target through the device layer (which starts the simulated board for `sim` connections). */
import type { Device } from '../device/types.js';
import type { BoardProfile } from '../profile/profile.js';
import type { BenchTarget } from './inventory.js';

interface DeviceLayer {
  openDevice(opts: { connection: string; profile: BoardProfile; name?: string } & Record<string, unknown>): Promise<Device>;
}

export async function openTarget(t: BenchTarget): Promise<Device> {
  const spec = '../device/index.js';
  const layer = (await import(spec)) as unknown as DeviceLayer;
  return layer.openDevice({ ...t.extra, connection: t.connection, profile: t.profile, name: t.name });
}
