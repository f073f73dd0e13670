/**
 * Retry a flash step that is safe to repeat (probe, hash, erase, write-complete, proof) when the
 * link fails under it: a drop, a stall past its deadline, an answer damaged on the way. Board
 * refusals, board exceptions and mismatches are never retried; after the last attempt the link
 * error itself is thrown (exit 3, with its phase).
 */
import pRetry, { AbortError } from 'p-retry';
import { oneLine } from '../errors.js';
import { isLinkFault } from './sendImage.js';
import type { ProgressReporter } from './progress.js';

export async function retryLinkFault<T>(what: string, fn: () => Promise<T>, progress: ProgressReporter, retries = 2): Promise<T> {
  return pRetry(
    async () => {
      try {
        return await fn();
      } catch (e) {
        if (isLinkFault(e)) throw e;
        throw new AbortError(e instanceof Error ? e : new Error(String(e)));
      }
    },
    {
      retries,
      minTimeout: 250,
      maxTimeout: 2000,
      onFailedAttempt: ({ error, retriesLeft }) => {
        if (retriesLeft > 0) progress.note(`link fault during ${what}: ${oneLine(error)}; retrying (${retriesLeft} left)`);
      },
    },
  );
}
