/** `hil repl --device D`: interactive passthrough to a board's friendly REPL (Ctrl-] exits). */
import type { Argv, CommandModule } from 'yargs';
import { resolveTargets } from '../../bench/targets.js';
import { parseConnection } from '../../device/connection.js';
import { SerialTransport } from '../../transport/serialTransport.js';
import { TcpTransport } from '../../transport/tcpTransport.js';
import { Rfc2217Transport } from '../../transport/rfc2217/index.js';
import { UsageError } from '../../errors.js';
import type { Transport } from '../../transport/transport.js';
import { checkNotEmpty, checkSerialIds } from '../validate.js';
import { leaseBoard } from '../../bench/openTarget.js';
import { scopeOf } from '../../lifecycle/scope.js';

interface ReplArgs {
  device?: string;
  profile?: string;
}

export const replCommand: CommandModule<object, ReplArgs> = {
  command: 'repl',
  describe: 'Interactive passthrough to a board (Ctrl-] exits)',
  builder: (y: Argv) =>
    y
      .option('device', { alias: 'd', type: 'string', demandOption: true, describe: 'inventory name or connection (/dev/ttyACM0, id:SERIAL, socket://host:port, rfc2217://host:port)' })
      .option('profile', { alias: 'p', type: 'string' }) as unknown as Argv<ReplArgs>,
  handler: async (args) => {
    checkNotEmpty('--device', args.device);
    const { targets, leases } = resolveTargets({ device: args.device, profile: args.profile });
    await checkSerialIds(targets.map((t) => t.connection));
    const conn = parseConnection(targets[0]!.connection);
    let t: Transport;
    if (conn.kind === 'serial') t = SerialTransport.byPath(conn.path);
    else if (conn.kind === 'serial-id') t = SerialTransport.bySerialNumber(conn.serial);
    else if (conn.kind === 'tcp') t = conn.protocol === 'rfc2217' ? new Rfc2217Transport(conn.host, conn.port) : new TcpTransport(conn.host, conn.port);
    else throw new UsageError(`hil repl needs a serial or TCP connection (start the board with 'hil sim' first), not '${targets[0]!.connection}'`);
    const scope = scopeOf(args);
    await leaseBoard(targets[0]!, scope, { what: 'hil repl', leases });
    scope.defer(`link ${t.description}`, () => t.close());
    await t.open(10000);
    process.stderr.write(`hil: connected to ${t.description}; Ctrl-] to exit\n`);
    t.onTraffic = (dir, data) => {
      if (dir === 'rx') process.stdout.write(data);
    };
    await t.write('\x02'); // friendly REPL
    const stdin = process.stdin;
    if (stdin.isTTY) stdin.setRawMode(true);
    await new Promise<void>((resolve) => {
      stdin.on('data', (d: Buffer) => {
        const i = d.indexOf(0x1d);
        if (i >= 0) return resolve();
        void t.write(d);
      });
      stdin.on('end', () => resolve());
      scope.signal.addEventListener('abort', () => resolve(), { once: true });
      const poll = setInterval(() => {
        if (t.rx.closed) {
          clearInterval(poll);
          resolve();
        }
        t.rx.drain();
      }, 200);
    });
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    await t.close();
    process.stderr.write('\nhil: disconnected\n');
  },
};
