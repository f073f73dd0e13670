/**
 * Stream the image into a streaming strategy's writer through the binary channel. Whether a
 * transfer is sent again after a failure is device/resend.ts's decision (the one owner of
 * re-sending code): the transfer is declared repeatable, because each send after the first starts
 * by asking the board what it holds and resumes from the first block it does not (the board hashes
 * the blocks around the last acknowledged one and the host compares them with its own digests;
 * blocks before that were verified on an earlier attempt), so sending it again leaves the board as
 * sending it once. resend.ts re-sends only after a link fault (an InfraError); a board refusal (a
 * negative errno recorded in `_hil_err` by the writer), a board exception or a mismatch ends it.
 * No send starts after the transfer's deadline.
 */
import { HilError, InfraError, oneLine } from '../errors.js';
import { sendWithResend } from '../device/resend.js';
import { inFlightBytes } from '../repl/binaryChannel.js';
import { execJson } from './boardJson.js';
import { BoardRefusedError } from './errors.js';
import { boardBlockDigests } from './hashBoardImage.js';
import { blockDigest, streamFrom, type TransferPlan } from './planTransfer.js';
import { flashProgram } from './programs.js';
import type { ProgressReporter } from './progress.js';
import { buildReceiver } from './receiver.js';
import type { BlockState, StrategyTarget, StreamingStrategy } from './strategies/types.js';

export interface SendOptions {
  progress: ProgressReporter;
  /** Sends after the first one, after link faults (default 5). */
  retries?: number;
  /** First pause before a re-send in ms (default 250, doubling, at most 2 s: device/resend.ts). */
  minTimeoutMs?: number;
}

export interface SendResult {
  /** Payload bytes the board acknowledged, all attempts together. */
  bytesSent: number;
  /** Block indexes transfers resumed from after link faults. */
  resumedFrom: number[];
  /** What each resume did (written on without erase, erased a range, restarted from 0). */
  resumeNotes: string[];
}


/** Deadline of one send of `bytes` through the channel: 30 s plus 1 s per 2 KiB. */
function transferTimeoutMs(bytes: number): number {
  return 30_000 + Math.ceil(bytes / 2048) * 1000;
}

/** The refusal recorded by the writer, if any (`_hil_err = [op, answer, offset, call]`). */
export async function readRefusal(t: StrategyTarget): Promise<BoardRefusedError | undefined> {
  const r = await execJson<{ err: [string, unknown, number, string?] | null }>(t.device, flashProgram('refusal'), 'refusal-check', 10_000, true);
  if (!r.err) return undefined;
  const [op, answer, off, call] = r.err;
  return new BoardRefusedError(
    `device ${t.device.name}: board refused ${op} at offset ${off}: ${call ?? 'the write'} answered ${JSON.stringify(answer)}; the segment does not hold the image`,
    op,
    typeof answer === 'number' ? answer : undefined,
  );
}

/** What each block from `from` holds on the board: the first block it does not hold, and the states from there. */
export function resumePoint(plan: TransferPlan, from: number, boardDigests: string[]): { block: number; states: BlockState[] } {
  let block = from + boardDigests.length;
  for (let i = 0; i < boardDigests.length; i++) {
    if (boardDigests[i] !== plan.blocks[from + i]!.digest) {
      block = from + i;
      break;
    }
  }
  const states: BlockState[] = [];
  for (let i = block - from; i < boardDigests.length; i++) {
    const b = plan.blocks[from + i]!;
    states.push(boardDigests[i] === blockDigest(new Uint8Array(b.length).fill(0xff)) ? 'erased' : boardDigests[i] === b.digest ? 'image' : 'dirty');
  }
  return { block, states };
}

/**
 * Blocks (counted from the stream's first block) the board may have written: those whose data
 * starts before the acknowledged bytes plus the chunks in flight (a compressed chunk may complete
 * several frames).
 */
export function blocksTouched(blockEnds: number[], ackedBytes: number, inFlight: number): number {
  let n = 0;
  while (n < blockEnds.length && (n === 0 ? 0 : blockEnds[n - 1]!) < ackedBytes + inFlight) n++;
  return n;
}

export async function sendImage(
  t: StrategyTarget,
  strategy: StreamingStrategy,
  image: Uint8Array,
  plan: TransferPlan,
  unit: number,
  opts: SendOptions,
): Promise<SendResult> {
  const nBlocks = plan.blocks.length;
  const streamOffset = (block: number): number => {
    if (!plan.compressed) return plan.blocks[block]?.offset ?? plan.imageLength;
    let n = 0;
    for (let i = 0; i < block; i++) n += plan.blocks[i]!.frame!.length;
    return n;
  };
  let from = 0;
  /** Blocks that may have been written since the last erase (all later ones are still erased). */
  let touchedTo = 0;
  let bytesSent = 0;
  const resumedFrom: number[] = [];
  const resumeNotes: string[] = [];

  const findResume = async (): Promise<void> => {
    const refusal = await readRefusal(t);
    if (refusal) throw refusal;
    const to = Math.min(nBlocks, Math.max(touchedTo, from + 1));
    const digests = await boardBlockDigests(t.device, t.partition, plan.imageLength, plan.blockSize, from, to);
    const { block, states } = resumePoint(plan, from, digests);
    if (block >= nBlocks) {
      from = nBlocks;
      resumeNotes.push(`all ${nBlocks} blocks verified on the board after the link fault`);
      opts.progress.note(resumeNotes[resumeNotes.length - 1]!);
      return;
    }
    const decision = await strategy.resume(t, { plan, missing: block, states, to });
    from = decision.block;
    resumedFrom.push(from);
    resumeNotes.push(decision.note);
    opts.progress.note(`resuming at block ${from}/${nBlocks}: ${block} block(s) verified on the board; ${decision.note}`);
  };

  const attempt = async (sendNumber: number): Promise<void> => {
    if (sendNumber > 1) await findResume();
    if (from >= nBlocks) return;
    const { data, blockEnds } = streamFrom(plan, image, from);
    const receiver = buildReceiver(strategy.writerCode(t, unit), plan, from);
    const base = streamOffset(from);
    let acked = 0;
    try {
      const res = await t.device.sendBinary(receiver, data, {
        chunkSize: plan.chunkSize,
        timeoutMs: transferTimeoutMs(data.length),
        onProgress: (sent) => {
          acked = sent;
          opts.progress.update(base + sent, plan.streamLength);
        },
      });
      acked = data.length;
      if (!res.finishOutput.includes('hilWritten')) {
        throw new InfraError(`${t.device.name}: the board's writer did not finish (${oneLine(res.finishOutput) || 'no output'})`, 'transfer');
      }
    } catch (err) {
      touchedTo = Math.max(touchedTo, from + blocksTouched(blockEnds, acked, inFlightBytes(plan.chunkSize)));
      // A refusal the writer recorded is the answer, whatever the channel said (when the link is
      // down this asking fails too, and the channel's error stands).
      let refusal: BoardRefusedError | undefined;
      try {
        refusal = await readRefusal(t);
      } catch {
        refusal = undefined;
      }
      throw refusal ?? err;
    } finally {
      bytesSent += acked;
    }
  };

  const retries = opts.retries ?? 5;
  // One deadline for the whole transfer, every send included: a board that keeps failing costs
  // the time of one transfer with its re-sends, not that much again per re-send.
  const deadlineAt = performance.now() + transferTimeoutMs(plan.streamLength) * 2;
  await sendWithResend(attempt, {
    repeatable: true,
    maxSends: retries + 1,
    backoffMs: opts.minTimeoutMs ?? 250,
    deadlineAt,
    onResend: (error, _why, left) => opts.progress.note(`link fault: ${oneLine(error)}; retrying (${left} left)`),
  }).catch((err: unknown) => {
    if (err instanceof HilError) throw err;
    throw new InfraError(`${t.device.name}: transfer failed: ${oneLine(err)}`, 'transfer', { cause: err });
  });
  return { bytesSent, resumedFrom, resumeNotes };
}
