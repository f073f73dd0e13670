/**
 * The one owner of sending a program to a board again. `hil exec`, sealed queries (sealed.ts) and
 * flash's repeatable steps (flash/retryLinkFault.ts) all ask here; nothing else re-sends code.
 *
 * A program is sent again only when
 * - no byte of it left the host: the link failed while opening or entering the raw REPL
 *   (`markNotSent`, set by the device layer), or
 * - the board proved it did not run it: a sealed request whose checksum failed on the board,
 *   answered with the damaged-request frame carrying that send's nonce (`NotRunError`, thrown
 *   by sealed.ts only for such a frame), or
 * - the caller declared it repeatable (it only reads, or doing it twice leaves the board as doing
 *   it once) and the link failed under it (any InfraError), or
 * - the board said it holds no sealed wrapper of this hil (gone after a soft reset, replaced):
 *   nothing of the request ran (`WrapperMissingError`); sent again at once with the wrapper,
 *   once per operation, not counted against MAX_SENDS.
 * Never because of what the program printed or raised: its output and tracebacks belong to the
 * code under test. Board exceptions, refusals and mismatches are never re-sent. After the last
 * send the error itself is thrown (exit 3 with its phase).
 */
import { InfraError } from '../errors.js';

/** Sends of one program in all (the first and two more). */
export const MAX_SENDS = 3;

/** The board answered that the request failed its checksum, so it ran nothing of it. */
export class NotRunError extends InfraError {
  constructor(message: string, phase: string) {
    super(message, phase);
    this.name = 'NotRunError';
  }
}

/**
 * The board holds no sealed wrapper of this hil (sealed_call.py's `W` frame): it ran nothing of
 * the request, which is sent again with the wrapper's definition (sealed.ts).
 */
export class WrapperMissingError extends NotRunError {
  constructor(message: string, phase: string) {
    super(message, phase);
    this.name = 'WrapperMissingError';
  }
}

const NOT_SENT = Symbol('hil.notSent');

/** Marks a link error that happened before any byte of the program was written to the link. */
export function markNotSent<E>(e: E): E {
  if (e instanceof InfraError && !(NOT_SENT in e)) Object.defineProperty(e, NOT_SENT, { value: true });
  return e;
}

/** True when the host knows the program did not run: never sent, or refused by the board's check. */
export function provenNotRun(e: unknown): boolean {
  return e instanceof NotRunError || (e instanceof InfraError && NOT_SENT in e);
}

/** A failure of the link or of the board to answer (exit 3), as opposed to a finding about the board. */
export function isLinkFault(e: unknown): boolean {
  return e instanceof InfraError;
}

/**
 * Whether a program whose send `sends` (1-based) failed with `e` may be sent again, and why.
 * `false`: throw `e`.
 */
export function mayResend(e: unknown, repeatable: boolean, sends: number, maxSends = MAX_SENDS): 'not-run' | 'repeatable' | false {
  if (sends >= maxSends || !isLinkFault(e)) return false;
  if (provenNotRun(e)) return 'not-run';
  return repeatable ? 'repeatable' : false;
}

export interface ResendOptions {
  /** Safe to run twice (see the rule above). Default false: re-sent only when proven not run. */
  repeatable?: boolean;
  /** Sends in all (default MAX_SENDS). */
  maxSends?: number;
  /** Pause before a re-send after a link fault (ms, doubling, at most 2 s); none after a proof. */
  backoffMs?: number;
  /** Told before each re-send. */
  onResend?: (error: unknown, why: 'not-run' | 'repeatable', sendsLeft: number) => void;
  /**
   * The whole operation's deadline (a `performance.now()` time): no send starts after it, so a
   * board that never answers costs one deadline, not one per send.
   */
  deadlineAt?: number;
}

/** Runs `send` (one send of a program and the reading of its result), again only where allowed. */
export async function sendWithResend<T>(send: (n: number) => Promise<T>, o: ResendOptions = {}): Promise<T> {
  const maxSends = o.maxSends ?? MAX_SENDS;
  let wrapperResent = false;
  for (let n = 1; ; n++) {
    try {
      return await send(n);
    } catch (e) {
      // The board holds no wrapper: the same send again, with it (once; not counted).
      if (e instanceof WrapperMissingError && !wrapperResent && (o.deadlineAt === undefined || performance.now() < o.deadlineAt)) {
        wrapperResent = true;
        n--;
        continue;
      }
      const why = mayResend(e, o.repeatable ?? false, n, maxSends);
      if (!why || (o.deadlineAt !== undefined && performance.now() >= o.deadlineAt)) throw e;
      o.onResend?.(e, why, maxSends - n);
      const pause = why === 'repeatable' || !(e instanceof NotRunError) ? Math.min(2000, (o.backoffMs ?? 0) * 2 ** (n - 1)) : 0;
      if (pause > 0) await new Promise((r) => setTimeout(r, pause));
    }
  }
}
