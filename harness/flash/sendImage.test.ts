/**
 * sendImage leaves re-sending to device/resend.ts (the one owner): the transfer is declared
 * repeatable, sent again after link faults up to its budget, and never started again once the
 * transfer's deadline has passed. The board here is a double (a Device whose every call fails as a
 * dropped link would, on a clock the test moves): what is under test is the decision to send
 * again, which needs no board; the real resume path runs against the simulated board in
 * flash.sim.test.ts and the fault matrix.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import type { Device } from '../device/types.js';
import { LinkClosedError } from '../transport/errors.js';
import { loadProfile } from '../profile/profile.js';
import { planTransfer } from './planTransfer.js';
import { silentProgress } from './progress.js';
import type { BoardFacts } from './probeBoard.js';
import { sendImage } from './sendImage.js';
import type { StrategyTarget, StreamingStrategy } from './strategies/types.js';

const profile = loadProfile('openmv-h7');

/** A board whose link drops under every call; each call takes `msPerCall` of the test's clock. */
function droppingBoard(clock: { now: number }, msPerCall: number): { device: Device; transfers: () => number } {
  let transfers = 0;
  const fail = async (phase: string): Promise<never> => {
    clock.now += msPerCall;
    throw new LinkClosedError('cam: link closed', phase);
  };
  const device = {
    name: 'cam',
    profile,
    connection: 'double',
    exec: () => fail('exec'),
    execRaw: () => fail('exec'),
    evalJson: () => fail('exec'),
    sendBinary: () => {
      transfers++;
      return fail('transfer');
    },
    softReset: () => fail('reset'),
    hardReset: () => fail('reset'),
    close: async () => undefined,
  } as unknown as Device;
  return { device, transfers: () => transfers };
}

const strategy: StreamingStrategy = {
  kind: 'stream',
  name: 'ram',
  writeUnit: () => 1,
  prepare: async () => undefined,
  writerCode: () => '_hil_err = None',
  resume: async (_t, v) => ({ block: v.missing, note: 'writing on' }),
  complete: async () => undefined,
};

function target(device: Device, length: number): StrategyTarget {
  const facts = { memFree: null, deflate: false } as unknown as BoardFacts;
  return { device, partition: 0, segment: profile.segments[0]!, facts, length, progress: silentProgress };
}

afterEach(() => {
  jest.restoreAllMocks();
});

describe('sendImage asks device/resend.ts whether to send again', () => {
  it('a dropped link: the transfer is sent again up to its budget, then the link error itself ends it (exit 3)', async () => {
    const clock = { now: 0 };
    jest.spyOn(performance, 'now').mockImplementation(() => clock.now);
    const image = new Uint8Array(4096).fill(7);
    const plan = planTransfer(image, { memFree: null, deflate: false }, { compress: false });
    const b = droppingBoard(clock, 0);
    const e = await sendImage(target(b.device, image.length), strategy, image, plan, 1, { progress: silentProgress, retries: 2, minTimeoutMs: 0 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LinkClosedError);
    expect((e as LinkClosedError).exitCode).toBe(3);
    // Sent once; each later send stops at asking the board what it holds (the link is still down).
    expect(b.transfers()).toBe(1);
  });

  it('no send starts after the transfer deadline: a link that fails only after a long stall is not tried five more times', async () => {
    const clock = { now: 0 };
    jest.spyOn(performance, 'now').mockImplementation(() => clock.now);
    const image = new Uint8Array(4096).fill(7);
    const plan = planTransfer(image, { memFree: null, deflate: false }, { compress: false });
    // Each call stalls 100 s before the link drops: past the deadline of the whole transfer.
    const b = droppingBoard(clock, 100_000);
    const e = await sendImage(target(b.device, image.length), strategy, image, plan, 1, { progress: silentProgress, retries: 5, minTimeoutMs: 0 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LinkClosedError);
    expect(b.transfers()).toBe(1);
    // One transfer's stall, one asking of the board for a refusal, nothing more.
    expect(clock.now).toBeLessThanOrEqual(2 * 100_000);
  });
});
