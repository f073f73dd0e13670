/**
 * Running `dfu-util` (the Debian package of that name; the tool OpenMV IDE uses): found on PATH,
 * spawned with an argument list (no shell), every run under a deadline (`-w` waits for the device
 * without one of its own). Output is kept for the error line.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { InfraError, UsageError } from '../../errors.js';

/** dfu-util is not installed: exit 2, one line naming the package. */
export class DfuUtilMissingError extends UsageError {}

/** The path of `dfu-util` on PATH, or undefined. */
export function findDfuUtil(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, 'dfu-util');
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

export function requireDfuUtil(env: NodeJS.ProcessEnv = process.env): string {
  const p = findDfuUtil(env);
  if (!p) throw new DfuUtilMissingError('dfu-util not found on PATH: the dfu strategy needs it (Debian package dfu-util: apt-get install dfu-util)');
  return p;
}

export interface DfuRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run dfu-util with `args`; a run past `timeoutMs` is killed and is an InfraError naming `phase`. */
export function runDfuUtil(tool: string, args: string[], timeoutMs: number, phase: string, what: string): Promise<DfuRun> {
  return new Promise((resolve, reject) => {
    const p = spawn(tool, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new InfraError(`${what}: dfu-util ${args.join(' ')} did not finish within ${Math.round(timeoutMs / 1000)} s (is the bootloader on USB, with permission to open it?)`, phase));
    }, timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(new InfraError(`${what}: cannot run ${tool}: ${e.message}`, phase));
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last meaningful line dfu-util printed (its error), for a one-line message. */
export function lastLine(r: DfuRun): string {
  const lines = `${r.stdout}\n${r.stderr}`.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? `exit ${r.code}`;
}
