/**
 * The `hil` command line. Each command lives in its own module under ./commands and exports a
 * yargs CommandModule; this file only assembles them and maps errors to exit codes.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { HilError, InfraError, ExitCode, oneLine } from '../errors.js';
import { commands } from './commands/index.js';

export const EPILOG = `Exit codes:
  0  success
  1  a check failed (scenario check, or image verify found problems)
  2  usage, configuration or bad input (nothing written to a device)
  3  infrastructure error: link or board, after retries (the error ends with [phase: P])
  4  flash verification mismatch (board bytes do not hash to the image)
  5  the board refused an operation (negative errno, no writable strategy)`;

export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  let exitCode: number = ExitCode.OK;
  const parser = yargs(argv)
    .scriptName('hil')
    .usage('$0 <command> [options]\n\nHardware-in-the-loop test and flashing harness for MicroPython cameras.')
    .epilog(EPILOG)
    .strict()
    .demandCommand(1, 'Name a command (see hil --help).')
    .recommendCommands()
    .help()
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? new UsageError2(msg);
    });
  for (const c of commands) parser.command(c);
  try {
    await parser.parseAsync();
    exitCode = process.exitCode === undefined ? ExitCode.OK : Number(process.exitCode);
  } catch (err) {
    if (err instanceof HilError) {
      // An infrastructure error names the phase it happened in (connect, transfer, hash...), so a
      // nightly log tells a cable from an image at a glance.
      const phase = err instanceof InfraError && err.phase ? ` [phase: ${err.phase}]` : '';
      process.stderr.write(`hil: ${oneLine(err)}${phase}\n`);
      exitCode = err.exitCode;
    } else if (err instanceof UsageError2) {
      process.stderr.write(`hil: ${err.message}\nRun 'hil --help' for usage.\n`);
      exitCode = ExitCode.USAGE;
    } else {
      process.stderr.write(`hil: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      exitCode = ExitCode.INFRA;
    }
  }
  return exitCode;
}

class UsageError2 extends Error {}
