/**
 * Typed errors shared by every layer. Each carries the process exit code the CLI uses for it,
 * so a failure deep in the stack surfaces with the documented code and a one-line message.
 *
 * Exit codes (documented in README and `hil --help`):
 *   0 success
 *   1 a check failed (scenario check, or `image verify` found problems)
 *   2 usage, configuration or bad input (nothing was written to a device)
 *   3 infrastructure: the link or the board did not respond as required, after retries
 *   4 flash verification mismatch: the board's bytes do not hash to the image
 *   5 the board refused an operation (negative errno from vfs.rom_ioctl, no writable strategy)
 *   6 `hil run --bench`: everything that ran passed, but a bench device is `bad` and was not run
 *     (harness/health); 1, 2 and 3 win over it
 */
export const ExitCode = {
  OK: 0,
  CHECK_FAILED: 1,
  USAGE: 2,
  INFRA: 3,
  VERIFY_MISMATCH: 4,
  BOARD_REFUSED: 5,
  DEVICE_BAD: 6,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class HilError extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Bad command-line usage, or a bad file given as input (profile, config, YAML, image path). */
export class UsageError extends HilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.USAGE, options);
  }
}

/** A configuration or input file is malformed: names the file and field. */
export class ConfigError extends HilError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.USAGE, options);
  }
}

/** The link or board failed (timeout, disconnect, garbage) after any retries. */
export class InfraError extends HilError {
  /** The phase the failure happened in, e.g. 'connect', 'raw-repl-entry', 'exec', 'transfer'. */
  readonly phase: string;
  constructor(message: string, phase: string, options?: { cause?: unknown }) {
    super(message, ExitCode.INFRA, options);
    this.phase = phase;
  }
}

/** Turns any thrown value into a single line for the console. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split(/\r?\n/)[0] ?? msg;
}
