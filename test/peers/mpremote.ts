/**
 * mpremote, MicroPython's own host tool (written for real boards), as a peer: the tests in
 * test/peers run it against `hil sim`, and a benchmark may use `locateMpremote` to run it too.
 *
 * It runs from a MicroPython source tree: HIL_MPREMOTE_SRC is the folder holding `mpremote/`
 * (tools/mpremote of a checkout, e.g. extracted with
 * `git -C MICROPYTHON archive HEAD tools/mpremote | tar -x -C /tmp/mpy`, then
 * HIL_MPREMOTE_SRC=/tmp/mpy/tools/mpremote). It needs pyserial and platformdirs (Debian:
 * python3-serial, python3-platformdirs); the Python used is HIL_MPREMOTE_PYTHON if set, else the
 * first of `python3` on PATH and /usr/bin/python3 that imports both.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface Mpremote {
  /** The folder holding `mpremote/` (put on PYTHONPATH). */
  readonly src: string;
  /** The Python that runs it. */
  readonly python: string;
}

export type MpremoteLookup = { found: true; mpremote: Mpremote } | { found: false; reason: string };

/** Where mpremote is, from HIL_MPREMOTE_SRC (and HIL_MPREMOTE_PYTHON); or why it cannot be used. */
export function locateMpremote(env: NodeJS.ProcessEnv = process.env): MpremoteLookup {
  const srcVar = env.HIL_MPREMOTE_SRC;
  if (!srcVar) return { found: false, reason: 'HIL_MPREMOTE_SRC is not set (the folder holding mpremote/, e.g. tools/mpremote of a MicroPython tree)' };
  const src = resolve(srcVar);
  if (!existsSync(join(src, 'mpremote', '__main__.py'))) {
    return { found: false, reason: `HIL_MPREMOTE_SRC=${srcVar}: no mpremote/__main__.py there` };
  }
  const candidates = env.HIL_MPREMOTE_PYTHON ? [env.HIL_MPREMOTE_PYTHON] : ['python3', '/usr/bin/python3'];
  const tried: string[] = [];
  for (const python of candidates) {
    const r = spawnSync(python, ['-c', 'import serial, platformdirs'], { encoding: 'utf8', timeout: 20_000 });
    if (r.status === 0) return { found: true, mpremote: { src, python } };
    tried.push(`${python}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { found: false, reason: `no Python with pyserial and platformdirs for mpremote (${tried.join('; ')})` };
}

export interface MpremoteResult {
  /** Exit code; null when it was killed at the deadline (or by a signal). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** It was still running at the deadline and was killed. */
  timedOut: boolean;
}

/** `python -m mpremote ARGS`, killed (SIGKILL) if it runs past `timeoutMs`. */
export function runMpremote(m: Mpremote, args: string[], timeoutMs: number): Promise<MpremoteResult> {
  return new Promise((resolveRun) => {
    const pythonPath = [m.src, process.env.PYTHONPATH].filter(Boolean).join(':');
    const child = spawn(m.python, ['-m', 'mpremote', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONPATH: pythonPath },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      stderr += `${e.message}\n`;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr, timedOut });
    });
  });
}
