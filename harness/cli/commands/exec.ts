/** `hil exec --device D [--profile P] CODE`: run Python on a board; its stdout to stdout, traceback to stderr. */
import type { Argv, CommandModule } from 'yargs';
import { ExitCode, InfraError, UsageError } from '../../errors.js';
import { provenNotRun } from '../../device/resend.js';
import { resolveTargets } from '../../bench/targets.js';
import { noteDetectedProfile } from '../profileNote.js';
import { checkNotEmpty, checkOutputPath, checkSeconds, checkSerialIds } from '../validate.js';
import { readCode } from '../readCode.js';
import { visibleControls } from '../../report/visible.js';
import { takeBoard } from '../../bench/openTarget.js';
import { scopeOf } from '../../lifecycle/scope.js';
import { leaseOptionsOf, withLeaseFlags, type LeaseFlagArgs } from '../leaseFlags.js';
import type { Device } from '../../device/types.js';

interface ExecArgs extends LeaseFlagArgs {
  code: string;
  device?: string;
  profile?: string;
  timeout: number;
  transcript?: string;
}

export const execCommand: CommandModule<object, ExecArgs> = {
  command: 'exec <code>',
  describe: 'Run Python code on a board through the raw REPL',
  builder: (y: Argv) =>
    withLeaseFlags(y, { waitDefault: 0 })
      .positional('code', { type: 'string', demandOption: true, describe: "Python source to run ('-': read it from stdin)" })
      .option('device', { alias: 'd', type: 'string', describe: 'inventory name or connection (/dev/ttyACM0, id:SERIAL, socket://host:port, qemu, sim[:PROFILE])' })
      .option('profile', { alias: 'p', type: 'string', describe: 'board profile (without it, chosen from what the board reports; required for qemu)' })
      .option('timeout', { type: 'number', default: 30, describe: 'deadline in seconds' })
      .option('transcript', { type: 'string', describe: 'write the byte transcript of the link to this file' })
      .example('$0 exec -d sim "import sys; print(sys.platform)"', 'run code on a simulated board (started and stopped for the command)')
      .epilog('Exit codes: 0 ran, 1 the code raised on the board, 2 bad usage, 3 link or board did not respond (the message says whether the program may have run; it is never sent twice).') as unknown as Argv<ExecArgs>,
  handler: async (args) => {
    // Refused before a board is opened (harness/cli/validate.ts).
    checkNotEmpty('--device', args.device);
    checkSeconds('--timeout', args.timeout);
    checkOutputPath('--transcript', args.transcript);
    const code = await readCode(args.code);
    const { targets, notes, leases } = resolveTargets({ device: args.device, profile: args.profile });
    await checkSerialIds(targets.map((t) => t.connection));
    for (const n of notes) process.stderr.write(`hil: ${n}\n`);
    // The board's lease is held while we talk to it; everything is released with the scope.
    let seen: Device | undefined;
    let failed = false;
    try {
      const dev = await takeBoard(targets[0]!, scopeOf(args), { what: 'hil exec', ...leaseOptionsOf(args, leases), onDevice: (d) => (seen = d) });
      noteDetectedProfile(dev);
      // Sent once: user code is never sent again after it may have started (device/resend.ts).
      const r = await dev.execRaw(code, { timeoutMs: args.timeout * 1000 }).catch((e: unknown) => {
        if (!(e instanceof InfraError)) throw e;
        const ran = provenNotRun(e) ? 'the program did not start: none of it was sent' : 'the program may have run on the board; hil does not send it again';
        throw new InfraError(`${e.message} (${ran})`, e.phase, { cause: e });
      });
      // On a terminal the board's control sequences are shown, not executed; a pipe or file gets
      // the bytes as the board sent them.
      const shown = (s: string, to: NodeJS.WriteStream) => (to.isTTY ? visibleControls(s) : s);
      process.stdout.write(shown(r.stdout, process.stdout));
      if (r.stderr) {
        process.stderr.write(shown(r.stderr.endsWith('\n') ? r.stderr : `${r.stderr}\n`, process.stderr));
        process.exitCode = ExitCode.CHECK_FAILED;
      }
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      // The transcript is written for a failed connect too (that is when it is needed), and a
      // transcript that cannot be written never skips closing the board.
      try {
        if (args.transcript && seen) await seen.transcript.writeTo(args.transcript);
      } catch (e) {
        const why = `--transcript ${args.transcript}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
        if (!failed) throw new UsageError(why);
        process.stderr.write(`hil: ${why}\n`);
      } finally {
        await seen?.close();
      }
    }
  },
};
