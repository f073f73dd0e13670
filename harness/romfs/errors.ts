import { HilError, ExitCode } from '../errors.js';

/** An image that does not follow the ROMFS format. `offset` is where parsing found the fault. */
export class RomfsFormatError extends HilError {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`, ExitCode.USAGE);
    this.offset = offset;
  }
}

/** A build input is wrong (source tree, name, config field, syntax error, partition overflow). Nothing is written. */
export class RomfsBuildError extends HilError {
  /** The file (or config field) the problem is in. */
  readonly file: string;
  constructor(message: string, file: string) {
    super(message, ExitCode.USAGE);
    this.file = file;
  }
}

/** mpy-cross refused a `.py` file; `line` is the line it named, when it named one. */
export class MpyCompileError extends RomfsBuildError {
  readonly line?: number;
  constructor(message: string, file: string, line?: number) {
    super(message, file);
    this.line = line;
  }
}
