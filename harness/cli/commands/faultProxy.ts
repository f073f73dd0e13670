/**
 * `hil fault-proxy --upstream CONN [--listen PORT] [--script FILE] [--seed N]`: run the
 * fault-injecting link (harness/fault) between hil and a board until Ctrl-C / SIGTERM. Prints the
 * connection string to give hil (`socket://127.0.0.1:PORT`) and one line per fault fired.
 * The script is a JSON array of rules: `[{"when":{"kind":"pattern","dir":"toBoard","pattern":"\u0001"},"do":{"kind":"drop"}}]`.
 */
import type { Argv, CommandModule } from 'yargs';
import { readFileSync, existsSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { scopeOf } from '../../lifecycle/scope.js';
import { FaultProxy, parseRules } from '../../fault/index.js';

interface FaultProxyArgs {
  upstream: string;
  listen: number;
  script?: string;
  seed: number;
}

export const faultProxyCommand: CommandModule<object, FaultProxyArgs> = {
  command: 'fault-proxy',
  describe: 'Relay a board link through a fault-injecting proxy (drop, stall, delay, corrupt, duplicate, truncate)',
  builder: (y: Argv) =>
    y
      .option('upstream', { type: 'string', demandOption: true, describe: 'the board: socket://host:port or a serial path' })
      .option('listen', { type: 'number', default: 0, describe: 'TCP port on 127.0.0.1 (default: any free port)' })
      .option('script', { type: 'string', describe: 'JSON file of fault rules ({when, do} objects)' })
      .option('seed', { type: 'number', default: 1, describe: 'seed for random choices (reproducible runs)' }) as unknown as Argv<FaultProxyArgs>,
  handler: async (args) => {
    let rules;
    if (args.script) {
      if (!existsSync(args.script)) throw new UsageError(`${args.script}: no such fault script`);
      try {
        rules = parseRules(readFileSync(args.script, 'utf8'), args.script);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
    }
    const proxy = await FaultProxy.start({ upstream: args.upstream, port: args.listen, rules, seed: args.seed });
    process.stdout.write(`${proxy.connection}\n`);
    let shown = 0;
    const timer = setInterval(() => {
      for (const e of proxy.events.slice(shown)) process.stderr.write(`fault-proxy: conn ${e.conn} ${e.action} ${e.dir}${e.at === undefined ? '' : ` at byte ${e.at}`}\n`);
      shown = proxy.events.length;
    }, 100);
    // SIGINT, SIGTERM or SIGHUP (the CLI's scope aborts on each) stops the proxy.
    const scope = scopeOf(args);
    scope.defer('fault proxy', () => proxy.close());
    await new Promise<void>((resolve) => scope.signal.addEventListener('abort', () => resolve(), { once: true }));
    clearInterval(timer);
    await proxy.close();
  },
};
