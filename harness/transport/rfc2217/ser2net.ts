/**
 * Run Debian's ser2net (version 4, YAML configuration) exporting one serial device as an RFC 2217
 * port on 127.0.0.1 (or another address, in a network namespace), for tests and benchmarks: the real remote-port server, not a double. The
 * process is guarded (harness/lifecycle/guardChild.ts): it never outlives the process that started
 * it, however that one ends; `stop()` ends it and waits for it to be gone.
 *
 * The configuration is the one README documents:
 *   connection: &board
 *     accepter: telnet(rfc2217),tcp(nodelay),127.0.0.1,PORT
 *     connector: serialdev,DEVICE,115200n81,local
 *     options:
 *       chardelay: false
 *       dev-to-net-bufsize: 4096
 *       net-to-dev-bufsize: 4096
 * `local` ignores modem lines (a pty has none); ser2net opens DEVICE when a client connects and
 * closes it when the client goes, so a board that re-enumerates under the same name (the
 * simulated board's link after machine.reset()) is found again on the next connection. One client
 * at a time (ser2net's default max-connections 1): a second is told "Port already in use"; no
 * kickolduser, so a probe (`hil devices`) or a second runner never cuts off the one at work.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardChild } from '../../lifecycle/guardChild.js';
import { makeTempDir } from '../../lifecycle/tempDir.js';

export interface Ser2netOptions {
  /** The serial device to export (a tty or pty path; a symlink is followed at each connection). */
  device: string;
  /** Port (default: a free one). */
  port?: number;
  /** Address it listens on (default 127.0.0.1). */
  host?: string;
  /**
   * Network namespace to run it in (`ip netns exec NAME ser2net ...`, root only): the board host
   * as a separate host, reached over a veth pair (test/rfc2217/netns.ts). Give `host` (the
   * namespace's address) and `port` then: the free-port probe runs in this namespace.
   */
  netns?: string;
  /** `telnet(rfc2217)` (default), `telnet` (no COM-PORT-OPTION) or `raw` (plain TCP, i.e. socket://). */
  mode?: 'rfc2217' | 'telnet' | 'raw';
  baudRate?: number;
  /** Deadline for the port to listen (ms, default 10000). */
  timeoutMs?: number;
}

export interface Ser2net {
  readonly port: number;
  readonly pid: number;
  /** `rfc2217://127.0.0.1:PORT` (or socket:// in raw mode). */
  readonly connection: string;
  /** The YAML configuration it runs with. */
  readonly config: string;
  stop(): Promise<void>;
}

/** ser2net's version line, or null when it is not installed. */
export function ser2netVersion(): string | null {
  const r = spawnSync('ser2net', ['-v'], { encoding: 'utf8' });
  return r.status === 0 ? (r.stdout || r.stderr).trim() : null;
}

export function ser2netConfig(o: { device: string; port: number; host?: string; mode?: Ser2netOptions['mode']; baudRate?: number }): string {
  // tcp(nodelay): ser2net sets TCP_NODELAY off (Nagle on) on the connections it accepts (seen
  // with strace: setsockopt(TCP_NODELAY, [0])), so a board answer that reaches it in two pieces
  // has its second piece held until the client ACKs the first; nodelay sends each at once.
  const tcp = 'tcp(nodelay)';
  const accepter = o.mode === 'raw' ? tcp : o.mode === 'telnet' ? `telnet,${tcp}` : `telnet(rfc2217),${tcp}`;
  return [
    'connection: &board',
    `  accepter: ${accepter},${o.host ?? '127.0.0.1'},${o.port}`,
    `  connector: serialdev,${o.device},${o.baudRate ?? 115200}n81,local`,
    '  options:',
    // ser2net holds what the port sends for >= 1 ms (2 character times) before relaying it by
    // default; each raw-REPL exchange would pay that (measured: exec round trip 3x the pty's).
    // With it off, chardelay-scale/-min/-max have nothing to scale: not set. (strace: each piece
    // of an answer is then one read of the pty and one send, no timer in between.)
    '    chardelay: false',
    // ser2net moves at most 64 bytes per read by default in each direction: a 128-byte raw-paste
    // window or a 1 KB answer is then several writes (and TCP segments) through its event loop.
    '    dev-to-net-bufsize: 4096',
    '    net-to-dev-bufsize: 4096',
    '',
  ].join('\n');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(p));
    });
  });
}

/**
 * Whether process `pid` (its network namespace) has a socket listening on `port`, from
 * /proc/PID/net/tcp: no connection is made, so the device is not opened.
 */
function listening(pid: number, port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const f of [`/proc/${pid}/net/tcp`, `/proc/${pid}/net/tcp6`]) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[1]!.endsWith(`:${hex}`) && cols[3] === '0A') return true;
    }
  }
  return false;
}

export async function startSer2net(o: Ser2netOptions): Promise<Ser2net> {
  if (o.netns && o.port === undefined) throw new Error('startSer2net: give the port when it runs in a network namespace');
  const host = o.host ?? '127.0.0.1';
  const port = o.port ?? (await freePort());
  // hil's temp folder (owner file): if this process is killed before stop(), the next hil's
  // reclaimTempDirs removes it; a bare mkdtemp was left in /tmp for ever.
  const dir = makeTempDir('hil-ser2net-');
  const file = join(dir, 'ser2net.yaml');
  const config = ser2netConfig({ device: o.device, port, host, mode: o.mode, baudRate: o.baudRate });
  writeFileSync(file, config);
  // -n: stay in the foreground; -u: no UUCP lock files (a user's test run may not write /var/lock).
  // `ip netns exec` enters the namespace and execs ser2net: the same PID, so the guard and the
  // listening probe (/proc/PID/net) follow ser2net itself.
  const argv = ['-n', '-u', '-c', file];
  const child: ChildProcess = o.netns ? spawn('ip', ['netns', 'exec', o.netns, 'ser2net', ...argv], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn('ser2net', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const guard = guardChild(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  });
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && !spawnError) {
      const t = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(t);
    }
    guard.dispose();
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (o.timeoutMs ?? 10000);
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(`cannot start ser2net (${spawnError.message}): install it (Debian: apt-get install ser2net)`);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`ser2net exited (${child.exitCode ?? child.signalCode}) before listening on ${port}: ${out.trim().split('\n').slice(-3).join(' / ')}`);
    }
    if (child.pid !== undefined && listening(child.pid, port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`ser2net did not listen on ${host}:${port} within the deadline: ${out.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const scheme = o.mode === 'raw' ? 'socket' : 'rfc2217';
  return { port, pid: child.pid!, connection: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`, config, stop };
}
