/** Open a bench target through the device layer (which starts QEMU or the simulated board for `qemu` / `sim` connections). */
import { accessSync, constants } from 'node:fs';
import { openDevice } from '../device/index.js';
import { parseConnection } from '../device/connection.js';
import type { Device } from '../device/types.js';
import type { Scope } from '../lifecycle/scope.js';
import type { BenchTarget } from './inventory.js';
import { leaseBoard, type BoardLeaseOptions } from './leaseBoard.js';
import { uhubctlPowerCycle } from '../power/uhubctl.js';

export interface OpenTargetOptions {
  /**
   * For boards the device layer boots itself (`qemu`): the image to have in the ROMFS partition
   * from power-on (QEMU's loader), so a scenario finds it by hash and writes nothing.
   */
  bootImage?: Uint8Array;
  /** The command's scope: the board's children, temp folders and the open device are released with it. */
  scope?: Scope;
  /** Called with the device as soon as it exists (before it connects), e.g. to keep its transcript when the connect fails. */
  onDevice?: (device: Device) => void;
  /** Checked before every board operation (the lease's fence: throws once the lease is no longer ours). */
  fence?: () => Promise<void>;
}

/** True for connections where hil starts the board and can place an image at boot. */
export function bootsItself(t: BenchTarget): boolean {
  return t.connection === 'qemu' || t.connection.startsWith('qemu:');
}

export async function openTarget(t: BenchTarget, opts: OpenTargetOptions = {}): Promise<Device> {
  const image = opts.bootImage && bootsItself(t) && t.extra.image === undefined ? { image: opts.bootImage } : {};
  const scope = opts.scope;
  const onDevice = (d: Device) => {
    if (scope) scope.defer(`board ${t.name}`, () => d.close());
    opts.onDevice?.(d);
  };
  // The bench's power switch (`power:`) is the device's power cycle: a board a model crashed is
  // brought back through it (harness/scenario/checks/crash.ts), as the recovery ladder's last step does.
  const powerCycle = t.power ? uhubctlPowerCycle(t.power, { signal: scope?.signal }) : undefined;
  return openDevice({ ...t.extra, ...image, connection: t.connection, profile: t.profile, name: t.name, scope, onDevice, beforeOperation: opts.fence, powerCycle });
}

/** How a command takes its board's lease: leaseBoard.ts, the one place for it. */
export type TakeBoardOptions = BoardLeaseOptions;
export { leaseBoard };

/** Lease the board, then open it (both released with the scope). */
export async function takeBoard(t: BenchTarget, scope: Scope, opts: TakeBoardOptions & Omit<OpenTargetOptions, 'scope'> = {}): Promise<Device> {
  // A tty this user cannot open (missing, no permission) is nobody's board to own: the device
  // layer says why (exit 2) without a lease being taken first.
  const c = parseConnection(t.connection);
  let reachable = true;
  if (c.kind === 'serial') {
    try {
      accessSync(c.path, constants.R_OK | constants.W_OK);
    } catch {
      reachable = false;
    }
  }
  const lease = reachable ? await leaseBoard(t, scope, opts) : undefined;
  return openTarget(t, { ...opts, scope, fence: lease ? () => lease.fence() : undefined });
}
