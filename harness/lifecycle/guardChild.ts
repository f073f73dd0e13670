/**
 * Children must not outlive hil: `guardChild(child)` starts a watchdog (watchdog.ts) holding a
 * pipe from this process; when this process ends in any way (SIGKILL included) the kernel closes
 * the pipe and the watchdog stops the child. The watchdog never keeps this process alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processStart } from './process.js';

/** The compiled watchdog: next to this module in dist/, else the repo's dist/ (tests from sources). */
function watchdogScript(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, 'watchdog.js'))) return join(here, 'watchdog.js');
  let dir = here;
  for (let i = 0; i < 5; i++) {
    const cand = join(dir, 'dist', 'harness', 'lifecycle', 'watchdog.js');
    if (existsSync(cand)) return cand;
    dir = dirname(dir);
  }
  return null;
}

export interface Guard {
  /** The watchdog's PID (undefined when it could not start). */
  readonly pid: number | undefined;
  /** Stop the watchdog (the child is stopped by its owner). */
  dispose(): void;
}

export function guardChild(child: ChildProcess): Guard {
  const script = watchdogScript();
  if (!script || child.pid === undefined) return { pid: undefined, dispose() {} };
  const w = spawn(process.execPath, [script, String(child.pid), processStart(child.pid) ?? ''], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  w.on('error', () => undefined);
  w.stdin?.on('error', () => undefined);
  w.unref();
  (w.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  const dispose = () => {
    if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  };
  child.once('exit', dispose);
  return { pid: w.pid, dispose };
}
