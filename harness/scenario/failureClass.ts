/**
 * Which kind of failure an error is (issue 13), for CheckResult.failureClass and the errors of
 * scenarios and devices: `product` (a check's own verdict), `link` (cable, port, transfer: the
 * bytes did not get through), `board` (hung, reset, no answer, refused), `config` (bad input, and
 * a run stopped by the operator: neither the board's fault nor the product's), `harness` (an
 * error hil did not expect: a hil bug). Decided by the typed error (harness/errors.ts and each
 * layer's errors.ts), never by parsing messages.
 */
import { ExitCode, HilError, InfraError } from '../errors.js';
import { LinkClosedError, LinkGoneError, LinkOpenError, LinkTimeoutError } from '../transport/errors.js';
import { ProtocolError, TransferIntegrityError } from '../repl/errors.js';
import { AnswerIntegrityError } from '../device/sealed.js';
import { NotRunError } from '../device/resend.js';
import { FAILURE_CLASSES, type CheckResult, type FailureClass } from './result.js';

export const isFailureClass = (v: unknown): v is FailureClass => typeof v === 'string' && (FAILURE_CLASSES as readonly string[]).includes(v);

/** Phases of an InfraError that are about the link rather than the board. */
const LINK_PHASES = /^(connect|open|transfer|reconnect|write|read)\b/;

export function classifyError(e: unknown): FailureClass {
  if (!(e instanceof HilError)) return 'harness';
  if (e.exitCode === ExitCode.USAGE) return 'config';
  // The bytes did not get through: closed, gone, garbled (either way), or the port could not be opened.
  if (
    e instanceof LinkClosedError || e instanceof LinkGoneError || e instanceof LinkOpenError || e instanceof ProtocolError
    || e instanceof TransferIntegrityError || e instanceof AnswerIntegrityError || e instanceof NotRunError
  ) return 'link';
  // The link is there but the board does not answer (hung, busy past its deadline).
  if (e instanceof LinkTimeoutError) return 'board';
  if (e instanceof InfraError) return LINK_PHASES.test(e.phase ?? '') ? 'link' : 'board';
  // Refused (negative errno), no strategy, verification mismatch, an exception in hil's program.
  return 'board';
}

/**
 * The class a result carries: its own when it is a known class, else `product` for `failed` and
 * `fallback` for `error` (absent for the other statuses).
 */
export function withFailureClass(r: CheckResult, fallback: FailureClass = 'board'): CheckResult {
  if (r.status !== 'failed' && r.status !== 'error') {
    if (r.failureClass !== undefined) delete r.failureClass;
    return r;
  }
  if (!isFailureClass(r.failureClass)) r.failureClass = r.status === 'failed' ? 'product' : fallback;
  return r;
}
