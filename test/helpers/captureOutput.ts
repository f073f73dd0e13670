/**
 * For CLI tests that call `main()` in the test's own process: every test starts with empty
 * captured output and no exit code; what the command writes to stdout and stderr is collected in
 * `io.stdout` / `io.stderr` (not printed), and the real streams are restored after each test.
 * Call once at the top of a test file: `const io = captureOutput();`. Tests may reset a field
 * (`io.stdout = ''`) between commands.
 */
import { afterEach, beforeEach, jest } from '@jest/globals';

export interface CapturedOutput {
  stdout: string;
  stderr: string;
}

export function captureOutput(): CapturedOutput {
  const io: CapturedOutput = { stdout: '', stderr: '' };
  beforeEach(() => {
    io.stdout = '';
    io.stderr = '';
    jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((io.stderr += String(s)), true));
    jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((io.stdout += String(s)), true));
    process.exitCode = undefined;
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });
  return io;
}
