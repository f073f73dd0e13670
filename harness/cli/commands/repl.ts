/**
 * `hil repl --device D`: interactive passthrough to a board's friendly REPL (Ctrl-] exits). The
 * board's lease is held throughout (bench/leaseBoard.ts) and fences every write: once the lease is
 * no longer ours (expired, broken, granted to another runner) the keystroke is not sent and the
 * command stops with exit 3 naming who holds the board now.
 */
import type { Argv, CommandModule } from 'yargs';
import { resolveTargets } from '../../bench/targets.js';
import { parseConnection } from '../../device/connection.js';
import { SerialTransport } from '../../transport/serialTransport.js';
import { TcpTransport } from '../../transport/tcpTransport.js';
import { Rfc2217Transport } from '../../transport/rfc2217/index.js';
import { UsageError } from '../../errors.js';
import type { Transport } from '../../transport/transport.js';
import { checkNotEmpty, checkSerialIds } from '../validate.js';
import { fencedTransport, leaseBoard } from '../../bench/leaseBoard.js';
import { leaseOptionsOf, withLeaseFlags, type LeaseFlagArgs } from '../leaseFlags.js';
import { scopeOf } from '../../lifecycle/scope.js';

interface ReplArgs extends LeaseFlagArgs {
  device?: string;
  profile?: string;
}

export const replCommand: CommandModule<object, ReplArgs> = {
  command: 'repl',
  describe: 'Interactive passthrough to a board (Ctrl-] exits)',
  builder: (y: Argv) =>
    withLeaseFlags(y, { waitDefault: 0 })
      .option('device', { alias: 'd', type: 'string', demandOption: true, describe: 'inventory name or connection (/dev/ttyACM0, id:SERIAL, socket://host:port, rfc2217://host:port)' })
      .option('profile', { alias: 'p', type: 'string' }) as unknown as Argv<ReplArgs>,
  handler: async (args) => {
    checkNotEmpty('--device', args.device);
    const { targets, leases } = resolveTargets({ device: args.device, profile: args.profile });
    const leaseOpts = leaseOptionsOf(args, leases);
    await checkSerialIds(targets.map((t) => t.connection));
    const conn = parseConnection(targets[0]!.connection);
    let link: Transport;
    if (conn.kind === 'serial') link = SerialTransport.byPath(conn.path);
    else if (conn.kind === 'serial-id') link = SerialTransport.bySerialNumber(conn.serial);
    else if (conn.kind === 'tcp') link = conn.protocol === 'rfc2217' ? new Rfc2217Transport(conn.host, conn.port) : new TcpTransport(conn.host, conn.port);
    else throw new UsageError(`hil repl needs a serial or TCP connection (start the board with 'hil sim' first), not '${targets[0]!.connection}'`);
    const scope = scopeOf(args);
    const lease = await leaseBoard(targets[0]!, scope, { what: 'hil repl', ...leaseOpts });
    const t = fencedTransport(link, lease);
    scope.defer(`link ${t.description}`, () => t.close());
    await t.open(10000);
    process.stderr.write(`hil: connected to ${t.description}; Ctrl-] to exit\n`);
    t.onTraffic = (dir, data) => {
      if (dir === 'rx') process.stdout.write(data);
    };
    await t.write('\x02'); // friendly REPL
    const stdin = process.stdin;
    if (stdin.isTTY) stdin.setRawMode(true);
    // Keystrokes go out in order, each after its fence; the first write that fails (the lease
    // lost, the link gone) ends the session with that error.
    let writes = Promise.resolve();
    let failure: unknown;
    let poll: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      stdin.on('data', (d: Buffer) => {
        const i = d.indexOf(0x1d);
        if (i >= 0) return resolve();
        writes = writes.then(() => (failure === undefined ? t.write(d) : undefined)).catch((e: unknown) => {
          failure ??= e;
          resolve();
        });
      });
      stdin.on('end', () => resolve());
      scope.signal.addEventListener('abort', () => resolve(), { once: true });
      poll = setInterval(() => {
        if (t.rx.closed) resolve();
        t.rx.drain();
      }, 200);
    });
    clearInterval(poll);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    await writes;
    await t.close();
    process.stderr.write('\nhil: disconnected\n');
    if (failure !== undefined) throw failure;
  },
};
