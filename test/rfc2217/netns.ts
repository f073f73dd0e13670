/**
 * A separate "board host" for tests: a Linux network namespace (`ip netns`, Debian iproute2; root
 * only) joined to this one by a veth pair, each end with a link-local address (169.254.X.Y/30,
 * picked at random among /30s no interface here uses). A server started in it (ser2net:
 * harness/transport/rfc2217/ser2net.ts `netns`) is reached from here only over that link, as a
 * board host on the bench's network would be. Traffic stays on this machine: the addresses exist
 * only on the two ends of the pair.
 *
 * `createNetns()` returns null with the reason when a namespace cannot be made (not root, no
 * iproute2, a container without CAP_SYS_ADMIN): callers print it and go on without one.
 * `remove()` deletes the namespace (and so the pair); stop what runs in it first. Namespaces are
 * named after the creating process (`hil-t<PID>-<tag>`), and one left by a process that is gone
 * (a killed test run) is deleted by the next createNetns.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';

export interface Netns {
  readonly name: string;
  /** This side's address on the pair. */
  readonly hostAddress: string;
  /** The namespace's address: where its servers listen. */
  readonly address: string;
  /** Run `argv` in the namespace (synchronously), for checks. */
  exec(argv: string[]): { status: number | null; stdout: string; stderr: string };
  remove(): void;
}

function ip(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return { status: null, stdout: '', stderr: r.error.message };
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function must(args: string[]): void {
  const r = ip(args);
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.stdout).trim() || `exit ${r.status}`}`);
}

/** Delete namespaces a test process that is gone left behind (nothing runs in them any more). */
function reclaimStale(): void {
  const list = ip(['netns', 'list']);
  if (list.status !== 0) return;
  for (const line of list.stdout.split('\n')) {
    const m = /^(hil-t(\d+)-[0-9a-f]+)\b/.exec(line.trim());
    if (!m || existsSync(`/proc/${m[2]}`)) continue;
    if (ip(['netns', 'pids', m[1]!]).stdout.trim() === '') ip(['netns', 'del', m[1]!]);
  }
}

/** A /30 of 169.254.0.0/16 that no interface in this namespace has an address in. */
function freeSubnet(): [string, string] {
  const [a, b] = freeBlock(4);
  return [a!, b!];
}

/** `size - 2` host addresses (size 4 or 8) of a block of 169.254.0.0/16 that no interface here has an address in. */
function freeBlock(size: 4 | 8): string[] {
  const used = ip(['-4', '-o', 'addr', 'show']).stdout;
  for (let i = 0; i < 50; i++) {
    const third = randomInt(1, 255);
    const base = randomInt(0, 256 / size) * size;
    const prefix = `169.254.${third}.`;
    const all = Array.from({ length: size }, (_, k) => `${prefix}${base + k}`);
    if (!all.some((a) => used.includes(` ${a}/`))) return all.slice(1, -1);
  }
  throw new Error(`no free 169.254.x.y/${size === 4 ? 30 : 29} found`);
}

/** Bridges a bench network of a test process that is gone left behind (`hilb<PID>`). */
function reclaimStaleBridges(): void {
  const list = ip(['-o', 'link', 'show', 'type', 'bridge']);
  if (list.status !== 0) return;
  for (const m of list.stdout.matchAll(/^\d+: (hilb(\d+))[:@]/gm)) if (!existsSync(`/proc/${m[2]}`)) ip(['link', 'del', m[1]!]);
}

export function createNetns(): { netns: Netns } | { netns: null; reason: string } {
  if (process.platform !== 'linux') return { netns: null, reason: 'network namespaces are Linux only' };
  if (process.getuid?.() !== 0) return { netns: null, reason: 'network namespaces need root (ip netns add)' };
  if (ip(['-V']).status !== 0) return { netns: null, reason: 'iproute2 (ip) is not installed' };
  reclaimStale();
  const tag = randomBytes(3).toString('hex');
  const name = `hil-t${process.pid}-${tag}`;
  const outer = `hv${tag}h`;
  const inner = `hv${tag}n`;
  let made = false;
  try {
    must(['netns', 'add', name]);
    made = true;
    const [hostAddress, address] = freeSubnet();
    must(['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
    must(['link', 'set', inner, 'netns', name]);
    must(['addr', 'add', `${hostAddress}/30`, 'dev', outer]);
    must(['link', 'set', outer, 'up']);
    must(['-n', name, 'addr', 'add', `${address}/30`, 'dev', inner]);
    must(['-n', name, 'link', 'set', inner, 'up']);
    must(['-n', name, 'link', 'set', 'lo', 'up']);
    const remove = () => {
      ip(['link', 'del', outer]);
      ip(['netns', 'del', name]);
    };
    return {
      netns: {
        name,
        hostAddress,
        address,
        exec: (argv) => ip(['netns', 'exec', name, ...argv]),
        remove,
      },
    };
  } catch (e) {
    ip(['link', 'del', outer]);
    if (made) ip(['netns', 'del', name]);
    return { netns: null, reason: `cannot make a network namespace: ${(e as Error).message}` };
  }
}

/**
 * A bench network of separate hosts on this machine: one network namespace per name, each joined
 * by a veth pair to one bridge here (`hilb<PID>`), all on one link-local /29 (the bridge has the
 * first address, `hostAddress`; the namespaces the next ones, in order). A namespace reaches the
 * others and this side over the bridge (one L2 segment: nothing is routed, no sysctl is changed);
 * nothing else reaches them. Up to 5 namespaces. `remove()` deletes the namespaces (and so their
 * pairs) and the bridge; stop what runs in them first. One process has one bench network at a time;
 * what a process that is gone left behind (namespaces and bridge) is deleted by the next one.
 */
export interface BenchNetwork {
  readonly hostAddress: string;
  /** By the names given. */
  readonly hosts: Record<string, Netns>;
  remove(): void;
}

export function createBenchNetwork(names: string[]): { net: BenchNetwork } | { net: null; reason: string } {
  if (process.platform !== 'linux') return { net: null, reason: 'network namespaces are Linux only' };
  if (process.getuid?.() !== 0) return { net: null, reason: 'network namespaces need root (ip netns add)' };
  if (ip(['-V']).status !== 0) return { net: null, reason: 'iproute2 (ip) is not installed' };
  if (names.length > 5) throw new Error('createBenchNetwork: at most 5 namespaces on a /29');
  reclaimStale();
  reclaimStaleBridges();
  const bridge = `hilb${process.pid}`;
  const made: string[] = [];
  const remove = () => {
    for (const n of made) ip(['netns', 'del', n]);
    ip(['link', 'del', bridge]);
  };
  try {
    const [hostAddress, ...addrs] = freeBlock(8);
    must(['link', 'add', bridge, 'type', 'bridge']);
    must(['addr', 'add', `${hostAddress}/29`, 'dev', bridge]);
    must(['link', 'set', bridge, 'up']);
    const hosts: Record<string, Netns> = {};
    names.forEach((label, i) => {
      const tag = randomBytes(3).toString('hex');
      const name = `hil-t${process.pid}-${tag}`;
      const outer = `hv${tag}h`;
      const inner = `hv${tag}n`;
      must(['netns', 'add', name]);
      made.push(name);
      must(['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
      must(['link', 'set', inner, 'netns', name]);
      must(['link', 'set', outer, 'master', bridge]);
      must(['link', 'set', outer, 'up']);
      must(['-n', name, 'addr', 'add', `${addrs[i]}/29`, 'dev', inner]);
      must(['-n', name, 'link', 'set', inner, 'up']);
      must(['-n', name, 'link', 'set', 'lo', 'up']);
      hosts[label] = { name, hostAddress: hostAddress!, address: addrs[i]!, exec: (argv) => ip(['netns', 'exec', name, ...argv]), remove: () => ip(['netns', 'del', name]) };
    });
    return { net: { hostAddress: hostAddress!, hosts, remove } };
  } catch (e) {
    remove();
    return { net: null, reason: `cannot make a bench network: ${(e as Error).message}` };
  }
}

/**
 * A TCP forwarder owned by the caller: listens on `host` (a free port) and joins each connection to
 * `target` (e.g. PostgreSQL on this side's loopback, for processes in a namespace that reach this
 * side only over the bridge; the server's own access rules still see a loopback client and are
 * left as they are). `close()` ends every connection and the listener.
 */
export async function forwardTcp(host: string, target: { host: string; port: number }): Promise<{ port: number; close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server = createServer((a) => {
    const b = connect(target.port, target.host);
    for (const s of [a, b]) {
      open.add(s);
      s.setNoDelay(true);
      s.on('close', () => open.delete(s));
      s.on('error', () => undefined);
    }
    a.on('close', () => b.destroy());
    b.on('close', () => a.destroy());
    a.pipe(b);
    b.pipe(a);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
