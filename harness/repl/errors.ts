import { HilError, ExitCode, InfraError } from '../errors.js';

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
