/**
 * Typed errors of `hil flash`. Each names the device (and file or field) in one line and carries
 * the documented exit code: 2 bad input (nothing written), 3 link, 4 verification mismatch,
 * 5 the board refused (negative errno, or no strategy can write this board).
 */
import { HilError, ExitCode, UsageError } from '../errors.js';

/** The image, source tree or options cannot be flashed to this board; nothing was written. */
export class FlashInputError extends UsageError {}

/** The board answered an operation with a negative errno. Never retried. */
export class BoardRefusedError extends HilError {
  readonly operation: string;
  readonly errno: number | undefined;
  constructor(message: string, operation: string, errno?: number) {
    super(message, ExitCode.BOARD_REFUSED);
    this.operation = operation;
    this.errno = errno;
  }
}

/** No flashing strategy applies to this board (profile and board capabilities considered). */
export class NoStrategyError extends HilError {
  constructor(message: string) {
    super(message, ExitCode.BOARD_REFUSED);
  }
}

/** The board's bytes (or its /rom listing after reset) do not match the image. */
export class FlashVerifyError extends HilError {
  constructor(message: string) {
    super(message, ExitCode.VERIFY_MISMATCH);
  }
}
