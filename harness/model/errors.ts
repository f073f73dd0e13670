import { HilError, ExitCode } from '../errors.js';

/**
 * Model bytes that do not follow their format (TFLite flatbuffer or ST NBIN). `offset` is the
 * byte the parser was reading when it found the fault. The parsers throw nothing else on bad
 * bytes (no RangeError, no TypeError): every offset is checked before it is read.
 */
export class ModelFormatError extends HilError {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`, ExitCode.USAGE);
    this.offset = offset;
  }
}

/** A devices/ops fact table that is missing or malformed: names the file and field. */
export class OpTableError extends HilError {
  constructor(message: string) {
    super(message, ExitCode.USAGE);
  }
}
