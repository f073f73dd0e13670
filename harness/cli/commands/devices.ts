/** `hil devices [--json]`: the bench inventory plus USB serial ports detected on this machine. */
import type { Argv, CommandModule } from 'yargs';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_BENCH_FILE, readBenchFile } from '../../bench/inventory.js';
import { listSerialPorts } from '../../transport/serialTransport.js';
import { oneLine } from '../../errors.js';
import { checkBenchKeys, checkInputFile } from '../validate.js';

interface DevicesArgs {
  json: boolean;
  inventory?: string;
}

export const devicesCommand: CommandModule<object, DevicesArgs> = {
  command: 'devices',
  describe: 'List the bench inventory and the USB serial ports detected here',
  builder: (y: Argv) =>
    y
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .option('inventory', { type: 'string', describe: `bench inventory file (YAML; default ${DEFAULT_BENCH_FILE}, listed when it exists)` }) as unknown as Argv<DevicesArgs>,
  handler: async (args) => {
    // A file named on the command line must be there; the default one is optional.
    checkInputFile('--inventory', args.inventory, 'inventory file');
    const inventoryArg = args.inventory ?? DEFAULT_BENCH_FILE;
    const file = resolve(inventoryArg);
    checkBenchKeys(file);
    const inventory = existsSync(file)
      ? readBenchFile(file).targets.map((t) => ({ name: t.name, profile: t.profile?.name ?? 'auto', connection: t.connection }))
      : [];
    let ports: Awaited<ReturnType<typeof listSerialPorts>> = [];
    let portsError: string | undefined;
    try {
      ports = (await listSerialPorts()).filter((p) => p.serialNumber || p.vendorId);
    } catch (e) {
      portsError = oneLine(e);
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ inventory, inventoryFile: existsSync(file) ? file : null, ports, portsError }, null, 2)}\n`);
      return;
    }
    process.stdout.write(existsSync(file) ? `Inventory ${inventoryArg}:\n` : `No inventory (${inventoryArg} not found).\n`);
    for (const d of inventory) process.stdout.write(`  ${d.name.padEnd(16)} ${d.profile.padEnd(18)} ${d.connection}\n`);
    if (portsError) process.stdout.write(`USB serial ports: unavailable (${portsError})\n`);
    else {
      process.stdout.write(`USB serial ports (${ports.length}):\n`);
      for (const p of ports) {
        process.stdout.write(`  ${p.path.padEnd(16)} id:${p.serialNumber ?? '?'}  ${p.vendorId ?? '?'}:${p.productId ?? '?'}  ${p.manufacturer ?? ''}\n`);
      }
    }
  },
};
