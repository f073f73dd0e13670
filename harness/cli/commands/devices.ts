/**
 * `hil devices [--json]`: the bench inventory, each device probed for reachability within a short
 * deadline (in parallel), plus USB serial ports detected on this machine. A remote port (socket://,
 * rfc2217://) is probed under its board's lease (bench/leaseBoard.ts, as every command that
 * touches a board): a board another runner holds is shown as leased, naming the holder, and is not
 * connected to (an RFC 2217 probe sets the line and purges the server's buffers).
 */
import type { Argv, CommandModule } from 'yargs';
import { accessSync, constants, existsSync } from 'node:fs';
import { createConnection } from 'node:net';
import { resolve } from 'node:path';
import { DEFAULT_BENCH_FILE, readBenchFile } from '../../bench/inventory.js';
import { listSerialPorts } from '../../transport/serialTransport.js';
import { oneLine, UsageError } from '../../errors.js';
import { checkBenchKeys, checkInputFile } from '../validate.js';
import { parseConnection } from '../../device/connection.js';
import { Rfc2217Transport, RemotePortBusyError } from '../../transport/rfc2217/index.js';
import { whileLeased, type BoardLeaseOptions } from '../../bench/leaseBoard.js';
import { LeaseBusyError } from '../../bench/lease.js';
import { describeHolder } from '../../bench/leases/index.js';
import { scopeOf, type Scope } from '../../lifecycle/scope.js';
import { leaseOptionsOf, withLeaseFlags, type LeaseFlagArgs } from '../leaseFlags.js';

interface DevicesArgs extends LeaseFlagArgs {
  json: boolean;
  inventory?: string;
  probe: boolean;
  probeTimeout: number;
}

export interface Reachability {
  ok: boolean;
  detail: string;
  /** Not probed: another runner holds the board's lease (who, since when). */
  leasedBy?: string;
}

/**
 * Whether a device answers, within `ms`, without touching the board: a serial path is checked
 * for presence and access (not opened); a socket:// port is connected to and closed; an
 * rfc2217:// port gets the telnet/COM-PORT-OPTION handshake and is closed (one client at a time:
 * a port another client holds says so). Boards hil starts itself (sim, qemu) are not probed.
 */
export async function probeDevice(connection: string, ms: number): Promise<Reachability> {
  let c;
  try {
    c = parseConnection(connection);
  } catch (e) {
    return { ok: false, detail: oneLine(e) };
  }
  switch (c.kind) {
    case 'sim':
    case 'qemu':
      return { ok: true, detail: 'started by hil when used' };
    case 'serial-id':
      return { ok: false, detail: 'see the USB serial ports below (matched by serial number)' };
    case 'serial':
      if (!existsSync(c.path)) return { ok: false, detail: `${c.path}: no such serial port` };
      try {
        accessSync(c.path, constants.R_OK | constants.W_OK);
      } catch {
        return { ok: false, detail: `${c.path}: permission denied` };
      }
      return { ok: true, detail: 'serial port present' };
    case 'tcp': {
      if (c.protocol === 'rfc2217') {
        const t = new Rfc2217Transport(c.host, c.port, { answerMs: ms });
        const t0 = Date.now();
        try {
          await t.open(ms);
          const took = Date.now() - t0;
          const sig = await t.awaitSignature(Math.min(500, ms));
          return { ok: true, detail: `RFC 2217 port${sig ? ` (${sig})` : ''}, answered in ${took} ms` };
        } catch (e) {
          return { ok: false, detail: e instanceof RemotePortBusyError ? 'in use by another client' : oneLine(e) };
        } finally {
          await t.close().catch(() => undefined);
        }
      }
      const host = c.host;
      const port = c.port;
      return new Promise((resolve) => {
        const t0 = Date.now();
        const s = createConnection({ host, port });
        const done = (r: Reachability) => {
          clearTimeout(timer);
          s.destroy();
          resolve(r);
        };
        const timer = setTimeout(() => done({ ok: false, detail: `no connection within ${ms} ms` }), ms);
        s.once('connect', () => done({ ok: true, detail: `TCP port open, connected in ${Date.now() - t0} ms` }));
        s.once('error', (e) => done({ ok: false, detail: (e as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connection refused (nothing listens there)' : e.message }));
      });
    }
  }
}

/** probeDevice under the board's lease when the probe connects to it (a remote port); a leased board is not probed. */
export async function probeLeased(connection: string, ms: number, scope: Scope, lease: BoardLeaseOptions): Promise<Reachability> {
  let remote = false;
  try {
    remote = parseConnection(connection).kind === 'tcp';
  } catch { /* probeDevice says why */ }
  if (!remote) return probeDevice(connection, ms);
  try {
    return await whileLeased({ connection }, scope, { ...lease, what: 'hil devices (probe)' }, () => probeDevice(connection, ms));
  } catch (e) {
    if (!(e instanceof LeaseBusyError)) return { ok: false, detail: oneLine(e) };
    const h = e.holder;
    const who = h ? describeHolder({ ...h, ciJob: h.ciJob ?? null }) : 'another runner';
    return { ok: false, leasedBy: who, detail: `leased by ${who}: not probed` };
  }
}

export const devicesCommand: CommandModule<object, DevicesArgs> = {
  command: 'devices',
  describe: 'List the bench inventory and the USB serial ports detected here',
  builder: (y: Argv) =>
    withLeaseFlags(y, { waitDefault: 0 })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .option('inventory', { type: 'string', describe: `bench inventory file (YAML; default ${DEFAULT_BENCH_FILE}, listed when it exists)` })
      .option('probe', { type: 'boolean', default: true, describe: 'probe each device for reachability (--no-probe: only list)' })
      .option('probe-timeout', { type: 'number', default: 3, describe: 'seconds each device has to answer the probe (probes run in parallel)' }) as unknown as Argv<DevicesArgs>,
  handler: async (args) => {
    // A file named on the command line must be there; the default one is optional.
    checkInputFile('--inventory', args.inventory, 'inventory file');
    const inventoryArg = args.inventory ?? DEFAULT_BENCH_FILE;
    const file = resolve(inventoryArg);
    checkBenchKeys(file);
    if (!(args.probeTimeout > 0 && args.probeTimeout <= 600)) throw new UsageError(`--probe-timeout: want seconds between 0 and 600, got ${args.probeTimeout}`);
    const bench = existsSync(file) ? readBenchFile(file) : undefined;
    const listed = bench ? bench.targets.map((t) => ({ name: t.name, profile: t.profile?.name ?? 'auto', connection: t.connection })) : [];
    const lease = leaseOptionsOf(args, bench?.leases);
    const ms = Math.round(args.probeTimeout * 1000);
    const scope = scopeOf(args);
    const inventory: ((typeof listed)[number] & { reachable?: Reachability })[] = args.probe
      ? await Promise.all(listed.map(async (d) => ({ ...d, reachable: await probeLeased(d.connection, ms, scope, lease) })))
      : listed;
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
    for (const d of inventory) {
      const r = d.reachable ? `  ${d.reachable.ok ? 'reachable' : d.reachable.leasedBy ? 'leased' : 'UNREACHABLE'}: ${d.reachable.detail}` : '';
      process.stdout.write(`  ${d.name.padEnd(16)} ${d.profile.padEnd(18)} ${d.connection}${r}\n`);
    }
    if (portsError) process.stdout.write(`USB serial ports: unavailable (${portsError})\n`);
    else {
      process.stdout.write(`USB serial ports (${ports.length}):\n`);
      for (const p of ports) {
        process.stdout.write(`  ${p.path.padEnd(16)} id:${p.serialNumber ?? '?'}  ${p.vendorId ?? '?'}:${p.productId ?? '?'}  ${p.manufacturer ?? ''}\n`);
      }
    }
  },
};
