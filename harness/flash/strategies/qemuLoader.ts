/**
 * qemu-loader: a QEMU board that hil started is restarted with the image placed in its ROMFS
 * partition by `-device loader,file=IMG,addr=ORIGIN,force-raw=on`. Needs the device to expose a
 * restart hook (`restartWithRomfsImage`), which only devices hil launched under QEMU have.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Device } from '../../device/types.js';
import type { WholeImageStrategy } from './types.js';

/** What a QEMU-started device offers so the loader strategy can work. */
export interface QemuLoaderHook {
  /**
   * Stop QEMU, start it again with `-device loader,file=<imagePath>,addr=<addr>,force-raw=on`,
   * reconnect and re-enter the raw REPL.
   */
  restartWithRomfsImage(imagePath: string, addr: number, opts?: { timeoutMs?: number }): Promise<void>;
}

export function qemuLoaderHook(device: Device): QemuLoaderHook | undefined {
  const d = device as Device & Partial<QemuLoaderHook>;
  return typeof d.restartWithRomfsImage === 'function' ? (d as unknown as QemuLoaderHook) : undefined;
}

export const qemuLoaderStrategy: WholeImageStrategy = {
  kind: 'whole',
  name: 'qemu-loader',
  async write(t, image) {
    const hook = qemuLoaderHook(t.device);
    if (!hook) throw new Error('qemu-loader chosen for a device without a restart hook');
    const dir = await mkdtemp(join(tmpdir(), 'hil-flash-'));
    const file = join(dir, 'romfs.img');
    try {
      await writeFile(file, image);
      const addr = t.facts.origin ?? t.segment.origin;
      await hook.restartWithRomfsImage(file, addr, { timeoutMs: 60_000 });
      return { notes: [`QEMU restarted with the image loaded at 0x${addr.toString(16)}`] };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
