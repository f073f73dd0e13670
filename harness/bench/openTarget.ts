/** Open a bench target through the device layer (which starts QEMU or the simulated board for `qemu` / `sim` connections). */
import { openDevice } from '../device/index.js';
import type { Device } from '../device/types.js';
import type { BenchTarget } from './inventory.js';

export interface OpenTargetOptions {
  /**
   * For boards the device layer boots itself (`qemu`): the image to have in the ROMFS partition
   * from power-on (QEMU's loader), so a scenario finds it by hash and writes nothing.
   */
  bootImage?: Uint8Array;
}

/** True for connections where hil starts the board and can place an image at boot. */
export function bootsItself(t: BenchTarget): boolean {
  return t.connection === 'qemu' || t.connection.startsWith('qemu:');
}

export async function openTarget(t: BenchTarget, opts: OpenTargetOptions = {}): Promise<Device> {
  const image = opts.bootImage && bootsItself(t) && t.extra.image === undefined ? { image: opts.bootImage } : {};
  return openDevice({ ...t.extra, ...image, connection: t.connection, profile: t.profile, name: t.name });
}
