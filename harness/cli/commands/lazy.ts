/**
 * Start-up: `hil CMD ...` loads only CMD's module (and what it imports), not every command's.
 * Only when the command is the first argument; anything else (`hil --help`, no command, an
 * option first, a command not listed here) loads every command through ./index.ts, so a command
 * added there works without an entry here (just without the faster start).
 */
import type { CommandModule } from 'yargs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = CommandModule<any, any>;

const LAZY: Record<string, () => Promise<AnyCommand>> = {
  image: async () => (await import('./image.js')).imageCommand,
  flash: async () => (await import('./flash.js')).flashCommand,
  run: async () => (await import('./run.js')).runCommand,
  sim: async () => (await import('./sim.js')).simCommand,
  devices: async () => (await import('./devices.js')).devicesCommand,
  exec: async () => (await import('./exec.js')).execCommand,
  repl: async () => (await import('./repl.js')).replCommand,
  'fault-proxy': async () => (await import('./faultProxy.js')).faultProxyCommand,
  report: async () => (await import('./report.js')).reportCommand,
  device: async () => (await import('./device.js')).deviceCommand,
  history: async () => (await import('./history.js')).historyCommand,
};

/** The command modules `argv` needs: none for a bare `--version`, one for `CMD ...`, else all. */
export async function commandsFor(argv: string[]): Promise<AnyCommand[]> {
  if (argv.length > 0 && argv.every((a) => a === '--version')) return [];
  const first = argv[0];
  const load = first !== undefined && Object.hasOwn(LAZY, first) ? LAZY[first] : undefined;
  if (load) return [await load()];
  return (await import('./index.js')).commands;
}
