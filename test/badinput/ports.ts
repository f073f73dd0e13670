/**
 * Serial ports for the bad input catalogue, made of real parts: a pty pair from socat (what the
 * simulated board uses too), and a second program holding a port with serialport's exclusive
 * lock, the way a second hil, mpremote (pyserial exclusive=True) or an IDE holds it (flock).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { afterEach, beforeEach } from '@jest/globals';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pty {
  /** The link hil is given (a symlink in the test's folder). */
  path: string;
  /** The pty it points at (/dev/pts/N). */
  device: string;
  stop(): Promise<void>;
}

/** Why socat-made ptys are not available here, or null. */
export function ptyUnavailable(): string | null {
  if (process.platform !== 'linux') return `ptys from socat are set up for Linux only (this is ${process.platform})`;
  const r = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return r.error || r.status !== 0 ? 'socat is not installed (Debian: apt-get install socat)' : null;
}

function exited(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => c.once('exit', () => resolve()));
}

/** A pty pair: `dir/name` is one end, `dir/name.peer` the other (nothing attached to it). */
export async function makePty(dir: string, name: string): Promise<Pty> {
  const path = join(dir, name);
  const peer = `${path}.peer`;
  const socat = spawn('socat', [`PTY,link=${path},rawer`, `PTY,link=${peer},rawer`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  socat.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const stop = async () => {
    socat.kill('SIGTERM');
    await exited(socat);
    rmSync(path, { force: true });
    rmSync(peer, { force: true });
  };
  const deadline = Date.now() + 5000;
  let failed: Error | undefined;
  socat.once('error', (e) => (failed = e));
  while (!existsSync(path) || !existsSync(peer)) {
    if (failed || socat.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`socat did not make the pty ${path}: ${failed?.message ?? err.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { path, device: realpathSync(path), stop };
}

/** The holder's program: open with the exclusive lock, say `held`, stay until stdin closes. */
const HOLDER = `
import { SerialPort } from 'serialport';
const port = new SerialPort({ path: process.argv[1], baudRate: 115200, lock: true, autoOpen: false });
port.open((e) => {
  if (e) { console.error(e.message); process.exit(1); }
  console.log('held');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/**
 * Another process holding `path` open with serialport's exclusive lock. It runs from `root` (to
 * find serialport) and exits when released or when this process goes (its stdin closes).
 */
export async function holdPort(path: string, root: string): Promise<{ pid: number; release(): Promise<void> }> {
  const c = spawn(process.execPath, ['--input-type=module', '-e', HOLDER, path], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  const release = async () => {
    c.stdin!.end();
    const t = setTimeout(() => c.kill('SIGKILL'), 3000);
    await exited(c);
    clearTimeout(t);
  };
  await new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    const t = setTimeout(() => {
      c.kill('SIGKILL');
      reject(new Error(`the holder did not open ${path} within 10 s: ${err.trim()}`));
    }, 10_000);
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('held')) {
        clearTimeout(t);
        resolve();
      }
    });
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    c.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`the holder of ${path} exited with ${code}: ${err.trim()}`));
    });
  });
  return { pid: c.pid!, release };
}

/** The unprivileged user a root test process runs the CLI as, so file modes apply. */
export const NOBODY = { uid: 65534, gid: 65534 };

/**
 * Why a serial port cannot be made that the CLI may not open, or null. Not root: a pty of our
 * own with mode 000 denies us. Root ignores file modes, so the CLI must run as nobody, which
 * needs nobody to be able to read node, the repository and its node_modules (not so in a
 * checkout under a private home folder).
 */
export function deniedPortUnavailable(root: string): string | null {
  return ptyUnavailable() ?? nobodyUnavailable(root);
}

/**
 * Why the CLI cannot be run as a user file modes apply to, or null: not root (modes apply to us),
 * or root whose CLI can run as nobody (needs nobody to read node, the checkout and the temp dir).
 */
export function nobodyUnavailable(root: string): string | null {
  if (process.getuid?.() !== 0) return null;
  const asNobody = (args: string[]) => {
    const r = spawnSync(process.execPath, args, { cwd: root, ...NOBODY, encoding: 'utf8', timeout: 30_000 });
    return r.error || r.status !== 0 ? r.error?.message ?? (r.stderr.trim().split('\n').pop() || `exit ${r.status}`) : null;
  };
  const cli = asNobody(['bin/hil.js', '--version']);
  if (cli) return `running as root (file modes do not apply), and user nobody (uid 65534) cannot run the built CLI from ${root}: ${cli}`;
  // The port's link lives in a folder under the temp dir, which nobody must be able to reach.
  const tmp = asNobody(['-e', `require('node:fs').accessSync(${JSON.stringify(tmpdir())}, 1)`]);
  if (tmp) return `running as root, and user nobody (uid 65534) cannot reach the temp dir ${tmpdir()}: ${tmp}`;
  return null;
}

/**
 * A TCP "board" that must never be reached: a listener that counts connections. A bad-input case
 * gives it as the device; `check()` throws if anything connected, so "nothing was sent to a board"
 * is proven, not assumed.
 */
export async function tripwire(): Promise<{ connection: string; check(): Promise<void> }> {
  const { createServer } = await import('node:net');
  let reached = 0;
  const server = createServer((sock) => {
    reached++;
    sock.destroy();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  return {
    connection: `socket://127.0.0.1:${port}`,
    check: async () => {
      await new Promise<void>((res) => server.close(() => res()));
      if (reached > 0) throw new Error(`the CLI connected to the board ${reached} time(s): bad input must be refused before any board is touched`);
    },
  };
}

/**
 * A fresh pty pair for every test of the calling file: made in `beforeEach` in a temp folder of
 * its own (`prefix`), and after each test whatever `track` was given is closed, the pty stopped
 * and the folder removed. `skip` is why ptys cannot be made here (the tests then skip).
 */
export function ptyEachTest(prefix: string, name: string): { skip: string | null; pty(): Pty; track<T extends { close(): Promise<void> }>(t: T): T } {
  const skip = ptyUnavailable();
  let dir = '';
  let pty: Pty | undefined;
  const open: { close(): Promise<void> }[] = [];
  beforeEach(async () => {
    if (skip) return;
    dir = mkdtempSync(join(tmpdir(), prefix));
    pty = await makePty(dir, name);
  });
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
    await pty?.stop();
    pty = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });
  return {
    skip,
    pty: () => {
      if (!pty) throw new Error('no pty: ptyEachTest makes one only inside a test');
      return pty;
    },
    track: (t) => {
      open.push(t);
      return t;
    },
  };
}
