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
  const used = ip(['-4', '-o', 'addr', 'show']).stdout;
  for (let i = 0; i < 50; i++) {
    const third = randomInt(1, 255);
    const base = randomInt(0, 64) * 4;
    const prefix = `169.254.${third}.`;
    const taken = [0, 1, 2, 3].some((k) => used.includes(` ${prefix}${base + k}/`));
    if (!taken) return [`${prefix}${base + 1}`, `${prefix}${base + 2}`];
  }
  throw new Error('no free 169.254.x.y/30 found');
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
