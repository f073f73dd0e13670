/**
 * The lease key of a board is its identity, not how it was spelled: the real path of a tty (or
 * the USB serial number behind it, when the kernel shows one, so `/dev/ttyACM0`,
 * `/dev/serial/by-id/...` and `id:SERIAL` are one board), the resolved address and port of a TCP
 * board (`socket://localhost:P` and `socket://127.0.0.1:P` are one), and for boards hil starts
 * itself (`qemu`, `sim`) the instance: every such run gets its own key and never waits for another.
 */
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isIP } from 'node:net';
import { parseConnection } from '../device/connection.js';
import { UsageError } from '../errors.js';
import type { BenchTarget } from './inventory.js';

/** A key no other board has: this process and a random tag (for boards hil starts itself). */
function instanceKey(kind: string): string {
  return `${kind}/instance-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** The USB serial number of a tty, from sysfs (`/sys/class/tty/NAME/device/../serial`), if any. */
export function usbSerialOfTty(realPath: string): string | null {
  let dir: string;
  try {
    dir = realpathSync(join('/sys/class/tty', basename(realPath), 'device'));
  } catch {
    return null;
  }
  for (let i = 0; i < 4 && dir !== '/'; i++, dir = dirname(dir)) {
    const f = join(dir, 'serial');
    if (existsSync(f) && existsSync(join(dir, 'idVendor'))) {
      try {
        const s = readFileSync(f, 'utf8').trim();
        if (s) return s;
      } catch { /* unreadable */ }
    }
  }
  return null;
}

function isLoopback(addr: string): boolean {
  return addr === '::1' || addr.startsWith('127.') || addr === '::ffff:127.0.0.1' || /^::ffff:127\./.test(addr);
}

async function resolveHost(host: string): Promise<string> {
  if (isIP(host)) return isLoopback(host) ? 'loopback' : host.toLowerCase();
  let timer: NodeJS.Timeout | undefined;
  try {
    const addrs = await Promise.race([
      lookup(host, { all: true }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), 3000);
      }),
    ]);
    if (addrs.some((a) => isLoopback(a.address))) return 'loopback';
    const sorted = addrs.map((a) => a.address.toLowerCase()).sort();
    return sorted[0] ?? host.toLowerCase();
  } catch {
    return host.toLowerCase(); // the connect itself reports a name that does not resolve
  } finally {
    clearTimeout(timer);
  }
}

/** The board's identity as a lease key (see the module comment). */
export async function boardKey(t: Pick<BenchTarget, 'connection'>): Promise<string> {
  const c = parseConnection(t.connection);
  switch (c.kind) {
    case 'sim':
      return instanceKey('sim');
    case 'qemu':
      return instanceKey('qemu');
    case 'serial-id':
      return `usb/${c.serial}`;
    case 'tcp':
      return `tcp/${await resolveHost(c.host)}:${c.port}`;
    case 'serial': {
      let real = c.path;
      try {
        real = realpathSync(c.path);
      } catch { /* not there: opening it reports that */ }
      const serial = usbSerialOfTty(real);
      return serial ? `usb/${serial}` : `tty${real.startsWith('/') ? '' : '/'}${real}`;
    }
  }
}

/**
 * Keys of every target, refusing (exit 2, before anything starts) two entries that are one board:
 * the same board listed twice, or two spellings of it.
 */
export async function boardKeys(targets: readonly Pick<BenchTarget, 'name' | 'connection'>[]): Promise<string[]> {
  const keys = await Promise.all(targets.map((t) => boardKey(t)));
  const seen = new Map<string, number>();
  keys.forEach((k, i) => {
    const j = seen.get(k);
    if (j !== undefined) {
      const a = targets[j]!;
      const b = targets[i]!;
      throw new UsageError(`devices '${a.name}' (${a.connection}) and '${b.name}' (${b.connection}) are the same board (${k}); list it once`);
    }
    seen.set(k, i);
  });
  return keys;
}
