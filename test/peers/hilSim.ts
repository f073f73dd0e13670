/**
 * `hil sim` run as a user runs it (the CLI of this checkout, spawned; it runs dist/, so build
 * first): the connection it prints on stdout, and a stop that ends it as Ctrl-C would.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface HilSim {
  /** What `hil sim` printed: the pty path (or socket://...). */
  readonly connection: string;
  /** Its stderr so far (the partition-file line). */
  stderr(): string;
  stop(): Promise<void>;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Start `hil sim ARGS` and wait (up to `timeoutMs`) for the connection line. */
export function startHilSim(args: string[], timeoutMs = 30_000): Promise<HilSim> {
  const child = spawn(process.execPath, [join(root, 'bin', 'hil.js'), 'sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((res) => child.once('close', () => res()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.kill('SIGTERM');
    await exited;
    clearTimeout(t);
  };
  return new Promise((resolveStart, reject) => {
    const rl = createInterface({ input: child.stdout });
    const timer = setTimeout(() => {
      rl.close();
      child.kill('SIGKILL');
      reject(new Error(`hil sim ${args.join(' ')} printed no connection within ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    rl.once('line', (line) => {
      clearTimeout(timer);
      rl.close();
      resolveStart({ connection: line.trim(), stderr: () => err, stop });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`hil sim ${args.join(' ')} exited (${code}) before printing a connection; stderr: ${err}`));
    });
  });
}
