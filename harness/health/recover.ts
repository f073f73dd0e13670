/**
 * The recovery ladder's steps for one bench device (ladder.ts runs them): each reaches the board
 * through the device layer, does its reset, and proves the board answers again as the same board
 * (its identity: harness/device/identify.ts; the unique id must match the one the run saw).
 * The caller holds the board's lease (benchHealth.ts).
 */
import type { BenchTarget } from '../bench/inventory.js';
import { openTarget } from '../bench/openTarget.js';
import { checkSameBoard, readIdentity, type BoardIdentity } from '../device/identify.js';
import type { Device } from '../device/types.js';
import { InfraError, oneLine } from '../errors.js';
import type { Scope } from '../lifecycle/scope.js';
import type { LadderStep } from './ladder.js';
import { switchPower, type UhubctlOptions } from '../power/uhubctl.js';

export interface RecoverOptions {
  scope: Scope;
  /** The identity the board reported in the run (when it got that far): the board must answer with it. */
  identity?: BoardIdentity;
  /** Open the board (default: the device layer through openTarget). */
  open?: (t: BenchTarget) => Promise<Device>;
  uhubctl?: UhubctlOptions;
  /** Deadline of each reset (ms, default 20000). */
  resetTimeoutMs?: number;
  /** After the power comes back: how long the board has to answer again (ms, default 30000). */
  powerReturnMs?: number;
  log?: (line: string) => void;
}

/** The identity comparison is the device layer's (harness/device/identify.ts); re-exported for the ladder's callers. */
export { checkSameBoard };

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function withDevice<T>(open: () => Promise<Device>, fn: (d: Device) => Promise<T>): Promise<T> {
  const d = await open();
  try {
    return await fn(d);
  } finally {
    await d.close().catch(() => undefined);
  }
}

/** The three steps for `t`, in ladder order. */
export function recoverySteps(t: BenchTarget, opts: RecoverOptions): LadderStep[] {
  const open = () => (opts.open ? opts.open(t) : openTarget(t, { scope: opts.scope }));
  const resetMs = opts.resetTimeoutMs ?? 20_000;
  const log = opts.log ?? (() => {});
  return [
    {
      name: 'soft-reset',
      run: () =>
        withDevice(open, async (d) => {
          checkSameBoard(t.name, opts.identity, d.identity);
          await d.softReset({ timeoutMs: resetMs });
          checkSameBoard(t.name, opts.identity, await readIdentity(d, { timeoutMs: resetMs }));
        }),
    },
    {
      name: 'hard-reset',
      run: async () => {
        let d: Device;
        try {
          d = await open();
        } catch (e) {
          throw new InfraError(`cannot reach the board to send machine.reset() (${oneLine(e)})`, 'hard-reset');
        }
        await withDevice(async () => d, async () => {
          // machine.reset(); the device layer finds the link again (same path or USB serial number).
          await d.hardReset({ timeoutMs: resetMs });
          checkSameBoard(t.name, opts.identity ?? d.identity, await readIdentity(d, { timeoutMs: resetMs }));
        });
      },
    },
    {
      name: 'power-cycle',
      unavailable: t.power ? undefined : `no power: in the bench file for ${t.name}`,
      run: async () => {
        const said = await switchPower(t.power!, 'cycle', { ...opts.uhubctl, signal: opts.uhubctl?.signal ?? opts.scope.signal });
        log(`uhubctl: ${said.trim().split(/\r?\n/).pop() ?? ''}`);
        // The board re-enumerates: try to reach it until the deadline.
        const deadline = Date.now() + (opts.powerReturnMs ?? 30_000);
        let last: unknown;
        for (let i = 1; ; i++) {
          if (opts.scope.signal.aborted) throw new InfraError(`${t.name}: stopped while waiting for the board after the power cycle`, 'power-cycle');
          try {
            await withDevice(open, async (d) => checkSameBoard(t.name, opts.identity, d.identity));
            return;
          } catch (e) {
            last = e;
            log(`after power cycle, attempt ${i}: ${oneLine(e)}`);
          }
          if (Date.now() >= deadline) break;
          await sleep(500);
        }
        throw new InfraError(`${t.name}: the board did not answer after the power cycle (${oneLine(last)})`, 'power-cycle');
      },
    },
  ];
}
