/**
 * Supervisor of one simulated board (its own process, so hil's process carries none of the
 * interpreter's load). It owns the link — a pty made by socat, or a TCP port — and the board
 * process behind it, relays bytes between them, and brings the board back after machine.reset()
 * the way a USB board re-enumerates: the link disappears, then returns under the same name.
 *
 * Prints `READY <connection>` on stdout once the link exists. SIGTERM/SIGINT stop everything.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface SupervisorConfig {
  boardConfig: string;
  link: 'pty' | 'tcp';
  /** pty: where socat puts the link. */
  linkPath?: string;
  /** tcp: port on 127.0.0.1 (0 picks one). */
  port?: number;
  /** How long the link stays away after machine.reset(). */
  resetDelayMs: number;
}

const cfg = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as SupervisorConfig;
const boardScript = fileURLToPath(new URL('./boardProcess.js', import.meta.url));
let stopping = false;
let board: ChildProcess | null = null;
let socat: ChildProcess | null = null;
let client: Socket | null = null;
let announced = false;

function toHost(data: Buffer): void {
  if (cfg.link === 'pty') socat?.stdin?.write(data);
  else client?.write(data);
}
function toBoard(data: Buffer): void {
  board?.stdin?.write(data);
}

function startBoard(): void {
  const b = spawn(process.execPath, [boardScript, cfg.boardConfig], { stdio: ['pipe', 'pipe', 'inherit'] });
  board = b;
  b.stdout!.on('data', toHost);
  b.stdin!.on('error', () => undefined);
  // 'close', not 'exit': at 'exit' the board's stdout may still hold what it printed just before
  // it reset (Node: a child's stdio streams may still be open when it exits), and that output
  // must reach the host before the link goes, as a board's last bytes do.
  b.on('close', (code, signal) => {
    if (board === b) board = null;
    if (stopping) return;
    if (signal !== 'SIGKILL') process.stderr.write(`simulated board exited (${code ?? signal}); restarting it\n`);
    // machine.reset() (or a crash): drop the link, then bring board and link back.
    const gone = dropLink();
    const delay = new Promise((r) => setTimeout(r, signal === 'SIGKILL' ? cfg.resetDelayMs : 1000));
    void Promise.all([gone, delay]).then(() => {
      if (stopping) return;
      startBoard();
      startLink();
    });
  });
}

function startPty(): void {
  // -t 0.05: once its stdin ends (the link dropped, dropLink), socat has relayed every byte it was
  // given and exits 50 ms later (its default closing wait is 0.5 s: socat(1), option -t).
  const s = spawn('socat', ['-t', '0.05', `PTY,link=${cfg.linkPath},rawer`, 'STDIO'], { stdio: ['pipe', 'pipe', 'pipe'] });
  socat = s;
  let err = '';
  s.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  s.stdout!.on('data', toBoard);
  s.stdin!.on('error', () => undefined);
  s.on('error', (e) => fail(`cannot start socat for the pty link (${(e as Error).message}): install socat (Debian: apt-get install socat)`));
  s.on('exit', (code) => {
    if (socat === s) socat = null;
    if (!stopping && code !== null && code !== 0 && !announced) fail(`socat exited with ${code}: ${err.trim()}`);
  });
  // socat creates the link asynchronously; announce once it exists.
  const t0 = Date.now();
  const poll = setInterval(() => {
    if (existsSync(cfg.linkPath!)) {
      clearInterval(poll);
      announce(cfg.linkPath!);
    } else if (Date.now() - t0 > 10000) {
      clearInterval(poll);
      fail(`socat did not create ${cfg.linkPath} within 10 s`);
    }
  }, 10);
}


let server: ReturnType<typeof createServer> | null = null;
function startTcp(): void {
  if (server) return; // the port stays; a reset only drops the client
  server = createServer((sock) => {
    sock.setNoDelay(true);
    if (client) client.destroy();
    client = sock;
    sock.on('data', toBoard);
    sock.on('error', () => undefined);
    sock.on('close', () => {
      if (client === sock) client = null;
    });
  });
  server.on('error', (e) => fail(`cannot listen on 127.0.0.1:${cfg.port ?? 0}: ${(e as Error).message}`));
  server.listen(cfg.port ?? 0, '127.0.0.1', () => {
    const addr = server!.address();
    const port = typeof addr === 'object' && addr ? addr.port : cfg.port;
    cfg.port = port;
    announce(`socket://127.0.0.1:${port}`);
  });
}

function startLink(): void {
  if (cfg.link === 'pty') startPty();
  else startTcp();
}

/** How long socat may take to hand the host the bytes it still holds before the link is cut. */
const DRAIN_MS = 2000;
/** The socats of links being dropped, still handing over their last bytes (killed on shutdown). */
const draining = new Set<ChildProcess>();

/**
 * Take the link away; resolves once the old socat has exited (it unlinks the path as it goes).
 * The bytes the board sent before it went are delivered first: socat's stdin is ended, so it
 * writes what it holds into the pty (which keeps them readable for the host after socat closes
 * it) and exits; killed only if the host does not take them within DRAIN_MS.
 */
function dropLink(): Promise<void> {
  if (cfg.link === 'pty') {
    const s = socat;
    socat = null;
    if (!s || s.exitCode !== null || s.signalCode !== null) {
      rmSync(cfg.linkPath!, { force: true });
      return Promise.resolve();
    }
    draining.add(s);
    return new Promise((res) => {
      const kill = setTimeout(() => s.kill('SIGKILL'), DRAIN_MS);
      s.once('exit', () => {
        draining.delete(s);
        clearTimeout(kill);
        rmSync(cfg.linkPath!, { force: true });
        res();
      });
      s.stdin!.end();
    });
  }
  // TCP: the same, through the socket: what was written is sent before the end (destroyed only
  // if the host does not take it within DRAIN_MS).
  const c = client;
  client = null;
  if (c) {
    // What the host still sends on the old connection is the reset board's: never the next one's.
    c.removeListener('data', toBoard);
    c.on('data', () => undefined);
    const kill = setTimeout(() => c.destroy(), DRAIN_MS);
    c.once('close', () => clearTimeout(kill));
    c.end();
  }
  return Promise.resolve();
}

function announce(conn: string): void {
  if (announced) return;
  announced = true;
  process.stdout.write(`READY ${conn}\n`);
}

function fail(msg: string): never {
  process.stdout.write(`ERROR ${msg}\n`);
  shutdown(1);
  process.exit(1);
}

function shutdown(code = 0): void {
  stopping = true;
  board?.kill('SIGKILL');
  socat?.kill('SIGTERM');
  for (const d of draining) d.kill('SIGKILL');
  server?.close();
  client?.destroy();
  if (cfg.link === 'pty' && cfg.linkPath) rmSync(cfg.linkPath, { force: true });
  process.exitCode = code;
}

// A power cycle asked for by the host that started us: the board is killed as by a reset and
// comes back (link dropped, then back); the answer is sent once the board is gone.
process.on('message', (m: { power?: string }) => {
  if (m?.power !== 'cycle') return;
  const b = board;
  if (!b) {
    process.send?.({ powered: true });
    return;
  }
  b.once('exit', () => process.send?.({ powered: true }));
  b.kill('SIGKILL');
});

process.on('SIGTERM', () => { shutdown(0); setTimeout(() => process.exit(0), 50); });
process.on('SIGINT', () => { shutdown(0); setTimeout(() => process.exit(0), 50); });
// If the process that started us goes away, do not linger.
process.on('disconnect', () => { shutdown(0); process.exit(0); });

startBoard();
startLink();
