/**
 * The `hil` command line. Each command lives in its own module under ./commands and exports a
 * yargs CommandModule; this file only assembles them and maps errors to exit codes.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { HilError, InfraError, ExitCode, oneLine } from '../errors.js';
import { commandsFor } from './commands/lazy.js';
import { skipHelpCache } from './helpCache.js';
import { Scope, SIGNAL_EXIT } from '../lifecycle/scope.js';
import { reclaimTempDirs } from '../lifecycle/tempDir.js';
import { defaultLockDir, reclaimStaleLeases } from '../bench/lease.js';

export const EPILOG = `Exit codes:
  0  success
  1  a check failed (scenario check, or image verify found problems)
  2  usage, configuration or bad input (nothing written to a device)
  3  infrastructure error: link or board, after retries (the error ends with [phase: P])
  4  flash verification mismatch (board bytes do not hash to the image)
  5  the board refused an operation (negative errno, no writable strategy)
  6  hil run --bench: everything that ran passed, but a bad bench device was not run
  129, 130, 143  stopped by SIGHUP, SIGINT (Ctrl-C) or SIGTERM (children stopped, temp folders
     removed, leases released; hil run writes its reports with what finished)`;

/** Signals that end a command cleanly (exit 128 + signal number). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** After a signal: how long the command may take to write what finished (hil run's reports). */
const WORK_GRACE_MS = 2500;
/** After a signal: the hard deadline; whatever is still held is then killed/removed at once. */
const HARD_DEADLINE_MS = 4500;

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * What a killed hil left (temp folders and lock files whose owner, by PID and start time, is
 * gone) is removed by the next hil that starts. Nothing a live process owns is touched.
 */
function reclaimLeftovers(): void {
  try {
    reclaimTempDirs();
    reclaimStaleLeases(defaultLockDir());
  } catch { /* best effort: never stops a command */ }
}

export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  let exitCode: number = ExitCode.OK;
  reclaimLeftovers();
  // One scope per command: what it takes (children, temp folders, leases, boards) is given back
  // on every way out, signals included.
  const scope = new Scope();
  let signalled: NodeJS.Signals | null = null;
  let wake: () => void = () => {};
  const interrupted = new Promise<void>((r) => (wake = r));
  let hard: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (signalled) {
      // A second signal: stop at once.
      scope.releaseNow();
      process.exit(SIGNAL_EXIT[signalled] ?? 130);
    }
    signalled = sig;
    process.stderr.write(`\nhil: ${sig}: stopping (boards closed, children stopped, temp folders removed, leases released)\n`);
    hard = setTimeout(() => {
      scope.releaseNow();
      process.exit(SIGNAL_EXIT[sig] ?? 130);
    }, HARD_DEADLINE_MS);
    scope.abort(sig);
    wake();
  };
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  const lastResort = () => scope.releaseNow();
  process.once('exit', lastResort);
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
  for (const c of await commandsFor(argv)) parser.command(c);
  skipHelpCache(parser);
  // A synchronous handler's throw becomes this promise's rejection (handled below like any error).
  const work = (async () => parser.parseAsync(argv, { scope }))();
  work.catch(() => undefined); // awaited below; never an unhandled rejection after a signal
  try {
    const first = await Promise.race([work.then(() => 'done' as const), interrupted.then(() => 'signal' as const)]);
    if (first === 'signal') {
      // Release the boards now (an operation in flight ends), and give the command a moment to
      // write what finished (hil run: its reports, the interrupted check marked as such).
      const releasing = scope.release();
      await Promise.race([work.catch(() => undefined), delay(WORK_GRACE_MS)]);
      await Promise.race([releasing, delay(Math.max(0, HARD_DEADLINE_MS - WORK_GRACE_MS - 500))]);
    } else {
      await work;
    }
    exitCode = process.exitCode === undefined ? ExitCode.OK : Number(process.exitCode);
  } catch (err) {
    if (signalled) {
      // The command's error after a signal is the signal's doing (its link was closed): not news.
    } else if (err instanceof HilError) {
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
  } finally {
    // Every exit path gives back what the command took, even when it forgot to (a failing write).
    await Promise.race([scope.release(), delay(HARD_DEADLINE_MS)]);
    scope.releaseNow();
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    process.off('exit', lastResort);
    if (hard) clearTimeout(hard);
  }
  if (signalled) {
    process.stderr.write(`hil: stopped by ${signalled}\n`);
    // Work abandoned by the signal (a check still awaiting a closed link) must not keep us alive.
    process.exit(SIGNAL_EXIT[signalled] ?? 130);
  }
  return exitCode;
}

class UsageError2 extends Error {}
