import { InfraError, UsageError } from '../errors.js';

/** A wait on the link ran past its deadline. `phase` says what was being waited for. */
export class LinkTimeoutError extends InfraError {}

/** The link closed (board reset, cable pulled, peer gone) while something was waiting on it. */
export class LinkClosedError extends InfraError {}

/** The link could not be opened (busy, refused, permission). */
export class LinkOpenError extends InfraError {}

/**
 * Another program holds the serial port (its exclusive lock: a second hil, mpremote, an IDE,
 * screen). A resource that is not available, like a lease held elsewhere: exit 3.
 */
export class PortBusyError extends LinkOpenError {
  constructor(readonly port: string) {
    super(`${port}: serial port is busy (another program holds it: close the IDE, mpremote or screen)`, 'connect');
  }
}

/** The user may not open the serial port (file mode, group): the user's setup, exit 2. */
export class PortPermissionError extends UsageError {
  constructor(readonly port: string) {
    super(`${port}: permission denied opening the serial port (add your user to the dialout group)`);
  }
}

/** The named port or address does not exist: bad input, nothing was written. */
export class NoSuchPortError extends UsageError {}

/**
 * What the link leads to is gone for good (e.g. the emulator process behind a pty exited): a
 * locator throws it so the transport stops at once instead of waiting for the port to return.
 */
export class LinkGoneError extends InfraError {}
