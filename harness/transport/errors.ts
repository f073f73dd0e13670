import { InfraError, UsageError } from '../errors.js';

/** A wait on the link ran past its deadline. `phase` says what was being waited for. */
export class LinkTimeoutError extends InfraError {}

/** The link closed (board reset, cable pulled, peer gone) while something was waiting on it. */
export class LinkClosedError extends InfraError {}

/** The link could not be opened (busy, refused, permission). */
export class LinkOpenError extends InfraError {}

/** The named port or address does not exist: bad input, nothing was written. */
export class NoSuchPortError extends UsageError {}
