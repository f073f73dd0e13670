import { HilError, ExitCode } from '../errors.js';

/** An image that does not follow the ROMFS format. `offset` is where parsing found the fault. */
export class RomfsFormatError extends HilError {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`, ExitCode.USAGE);
    this.offset = offset;
  }
}
