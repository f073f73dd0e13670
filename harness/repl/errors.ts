import { HilError, ExitCode, InfraError } from '../errors.js';
import { LinkTimeoutError } from '../transport/errors.js';

/** Code raised an exception on the board. Carries the exception type, message and traceback. */
export class DeviceExceptionError extends HilError {
  readonly excType: string;
  readonly excMessage: string;
  readonly traceback: string;
  constructor(device: string, traceback: string) {
    const tb = traceback.replace(/\r\n/g, '\n').trim();
    const last = tb.split('\n').pop() ?? '';
    const m = /^([A-Za-z_][\w.]*)(?::\s*(.*))?$/.exec(last);
    super(`${device}: ${last || 'exception on the board'}`, ExitCode.CHECK_FAILED);
    this.excType = m?.[1] ?? 'Exception';
    this.excMessage = m?.[2] ?? '';
    this.traceback = tb;
  }
}

/** The board did not follow the raw REPL protocol (garbage where OK or a prompt belongs). */
export class ProtocolError extends InfraError {}

/** Bytes sent through the binary channel did not arrive intact. */
export class TransferIntegrityError extends InfraError {}

/**
 * The board took the code and started it, but the program had not finished (no end of its output)
 * when the deadline passed: a slow or looping program, not a link failure. Still a timeout (the
 * program may have run; it is never sent again), so retry rules treat it as one.
 */
export class ProgramStillRunningError extends LinkTimeoutError {
  constructor(device: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`${device}: board program still running after ${Number((timeoutMs / 1000).toFixed(3))} s (the deadline; raise --timeout if it needs longer)`, 'exec', options);
  }
}
