/**
 * Runs the `hil` CLI of this checkout as a child process, the way a user or CI runs it, for the
 * fault matrices: its exit code, stdout and stderr, killed with SIGKILL when `signal` aborts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface HilProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The checkout's root (where bin/hil.js is), from sources or from dist/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'bin', 'hil.js'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('bin/hil.js not found above harness/fault');
}

/** `node bin/hil.js` of this checkout (it runs dist/, so build first). */
export function defaultHil(): string[] {
  return [process.execPath, join(repoRoot(), 'bin', 'hil.js')];
}

export function runHil(cmd: string[], args: string[], signal: AbortSignal): Promise<HilProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0]!, [...cmd.slice(1), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' }, signal, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', () => undefined); // an abort: 'close' follows
    child.on('close', (code, sig) => resolve({ code, signal: sig, stdout, stderr }));
  });
}

/** The phase an exit-3 error line names (`... [phase: transfer]`), if any. */
export function phaseOfErrorLine(stderr: string): string | undefined {
  const last = stderr.trim().split('\n').pop() ?? '';
  return /\[phase: ([^\]]+)\]$/.exec(last)?.[1];
}
