/**
 * Stream the image into a streaming strategy's writer through the binary channel. A link fault
 * is retried with backoff (p-retry) and the transfer resumes from the first block that the board
 * does not hold: the board hashes the blocks around the last acknowledged one and the host compares
 * them with its own digests (blocks before that were verified on an earlier attempt). A board
 * refusal (a negative errno recorded in `_hil_err` by the writer) is never retried.
 */
import pRetry, { AbortError } from 'p-retry';
import { HilError, InfraError, oneLine } from '../errors.js';
import { execJson } from './boardJson.js';
import { BoardRefusedError } from './errors.js';
import { boardBlockDigests } from './hashBoardImage.js';
import { blockDigest, blocksAcked, streamFrom, type TransferPlan } from './planTransfer.js';
import type { ProgressReporter } from './progress.js';
import { buildReceiver } from './receiver.js';
import type { StrategyTarget, StreamingStrategy } from './strategies/types.js';

export interface SendOptions {
  progress: ProgressReporter;
  /** Retries after link faults (default 5). */
  retries?: number;
  /** First backoff delay in ms (default 250, doubling, at most 4 s). */
  minTimeoutMs?: number;
}

export interface SendResult {
  /** Payload bytes the board acknowledged, all attempts together. */
  bytesSent: number;
  /** Block indexes transfers resumed from after link faults. */
  resumedFrom: number[];
}

/** A link-level failure worth retrying (not a refusal, bad input or a board-side exception). */
export function isLinkFault(err: unknown): boolean {
  if (!(err instanceof InfraError)) return false;
  return err.name !== 'DeviceExceptionError';
}

/** The refusal recorded by the writer, if any (`_hil_err = [op, errno, offset]`). */
export async function readRefusal(t: StrategyTarget): Promise<BoardRefusedError | undefined> {
  const r = await execJson<{ err: [string, unknown, number] | null }>(
    t.device,
    `_hil_answer({'err': globals().get('_hil_err')})\n`,
    'refusal-check',
    10_000,
    true,
  );
  if (!r.err) return undefined;
  const [op, errno, off] = r.err;
  return new BoardRefusedError(
    `device ${t.device.name}: board refused ${op} at offset ${off}: rom_ioctl returned ${JSON.stringify(errno)}; the partition does not hold the image`,
    op,
    typeof errno === 'number' ? errno : undefined,
  );
}

/** First block (from `from`) the board does not hold, and the first dirty offset (neither image nor erased). */
export function resumePoint(plan: TransferPlan, from: number, boardDigests: string[]): { block: number; dirtyFrom: number | null } {
  let block = from + boardDigests.length;
  for (let i = 0; i < boardDigests.length; i++) {
    if (boardDigests[i] !== plan.blocks[from + i]!.digest) {
      block = from + i;
      break;
    }
  }
  let dirtyFrom: number | null = null;
  for (let i = block - from; i < boardDigests.length; i++) {
    const b = plan.blocks[from + i]!;
    if (boardDigests[i] !== b.digest && boardDigests[i] !== blockDigest(new Uint8Array(b.length).fill(0xff))) {
      dirtyFrom = b.offset;
      break;
    }
  }
  return { block, dirtyFrom };
}

export async function sendImage(
  t: StrategyTarget,
  strategy: StreamingStrategy,
  image: Uint8Array,
  plan: TransferPlan,
  minWrite: number,
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
  let ackedBlocks = 0;
  let bytesSent = 0;
  const resumedFrom: number[] = [];

  const findResume = async (): Promise<void> => {
    const refusal = await readRefusal(t);
    if (refusal) throw new AbortError(refusal);
    const to = Math.min(nBlocks, Math.max(ackedBlocks + 2, from + 1));
    const digests = await boardBlockDigests(t.device, t.partition, plan.imageLength, plan.blockSize, from, to);
    const { block, dirtyFrom } = resumePoint(plan, from, digests);
    const offset = plan.blocks[block]?.offset ?? plan.imageLength;
    const resumeAt = await strategy.beforeResume(t, offset, dirtyFrom, plan.blockSize);
    from = Math.floor(resumeAt / plan.blockSize);
    resumedFrom.push(from);
    opts.progress.note(`resuming at block ${from}/${nBlocks} (offset ${resumeAt}): ${block} block(s) verified on the board`);
  };

  const attempt = async (attemptNumber: number): Promise<void> => {
    if (attemptNumber > 1) await findResume();
    if (from >= nBlocks) return;
    const { data, blockEnds } = streamFrom(plan, image, from);
    const receiver = buildReceiver(strategy.writerCode(t, minWrite), plan, from);
    const base = streamOffset(from);
    let acked = 0;
    try {
      const res = await t.device.sendBinary(receiver, data, {
        chunkSize: plan.chunkSize,
        timeoutMs: 30_000 + Math.ceil(data.length / 2048) * 1000,
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
      ackedBlocks = from + blocksAcked(blockEnds, acked);
      if (err instanceof AbortError) throw err;
      // Ask the board whether it refused; if the link is down this throws and we retry.
      let refusal: BoardRefusedError | undefined;
      try {
        refusal = await readRefusal(t);
      } catch {
        refusal = undefined;
      }
      if (refusal) throw new AbortError(refusal);
      if (isLinkFault(err)) throw err;
      throw new AbortError(err instanceof Error ? err : new Error(String(err)));
    } finally {
      bytesSent += acked;
    }
  };

  await pRetry(attempt, {
    retries: opts.retries ?? 5,
    minTimeout: opts.minTimeoutMs ?? 250,
    factor: 2,
    maxTimeout: 4000,
    shouldRetry: ({ error }) => isLinkFault(error),
    onFailedAttempt: ({ error, retriesLeft }) => {
      if (isLinkFault(error) && retriesLeft > 0) opts.progress.note(`link fault: ${oneLine(error)}; retrying (${retriesLeft} left)`);
    },
  }).catch((err: unknown) => {
    if (err instanceof HilError) throw err;
    throw new InfraError(`${t.device.name}: transfer failed: ${oneLine(err)}`, 'transfer', { cause: err });
  });
  return { bytesSent, resumedFrom };
}
