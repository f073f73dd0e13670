/**
 * Retry a flash step that is safe to repeat (probe, hash, erase, write-complete, proof) when the
 * link fails under it: a drop, a stall past its deadline, an answer damaged on the way. Whether
 * to send again is not decided here: the step is declared repeatable to device/resend.ts, the one
 * owner of re-sending. Board refusals, board exceptions and mismatches are never retried; after
 * the last attempt the link error itself is thrown (exit 3, with its phase).
 */
import { oneLine } from '../errors.js';
import { sendWithResend } from '../device/resend.js';
import type { ProgressReporter } from './progress.js';

export async function retryLinkFault<T>(what: string, fn: () => Promise<T>, progress: ProgressReporter, retries = 2): Promise<T> {
  return sendWithResend(() => fn(), {
    repeatable: true,
    maxSends: retries + 1,
    backoffMs: 250,
    onResend: (error, _why, left) => progress.note(`link fault during ${what}: ${oneLine(error)}; retrying (${left} left)`),
  });
}
