/**
 * A board's power switch, below the bench and the device layers (it imports only harness/errors):
 * Debian's `uhubctl` (github.com/mvp/uhubctl) switches the board's USB hub port off and on again:
 * `uhubctl -l LOCATION -p PORT -a cycle -d DELAY`. Used by the recovery ladder's power step
 * (harness/health/recover.ts) and, through harness/bench/openTarget.ts, as the device's power cycle
 * that brings back a board a model crashed (harness/scenario/checks/crash.ts).
 * Anything but exit 0 is an infrastructure error naming the command and what uhubctl said (with
 * no hub at that location it says `No compatible devices detected at location 1-1!`, exit 1; a
 * hub this user may not drive adds `There were permission problems while accessing USB.`).
 */
import { spawn } from 'node:child_process';
import { InfraError } from '../errors.js';

/**
 * A board's power switch: a port of a USB hub with per-port power control, driven by Debian's
 * `uhubctl` (github.com/mvp/uhubctl: `uhubctl -l LOCATION -p PORT -a cycle -d DELAY`). The bench
 * file's `power:` field (harness/bench/inventory.ts parses it).
 */
export interface PowerSpec {
  uhubctl: {
    /** Hub location as uhubctl prints it: `BUS` or `BUS-PORT[.PORT...]`, e.g. `1-1`, `2-1.4`. */
    location: string;
    /** The hub port the board is plugged into (1..14, uhubctl's MAX_HUB_PORTS). */
    port: number;
    /** Seconds the port stays off during the cycle (uhubctl -d; its default is 2). */
    delay?: number;
  };
}

export type PowerAction = 'off' | 'on' | 'cycle';

/** uhubctl's default off time for `-a cycle` (seconds; uhubctl.c: opt_delay). */
export const UHUBCTL_DEFAULT_DELAY_S = 2;

/** The power switch failed: uhubctl missing, refused, or found no hub. Exit 3 (phase power-cycle). */
export class PowerSwitchError extends InfraError {
  constructor(message: string) {
    super(message, 'power-cycle');
  }
}

export interface UhubctlOptions {
  /** The program (default `uhubctl`, found on PATH). */
  command?: string;
  /** Deadline for uhubctl itself (default: the off delay + 15 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** uhubctl's arguments for one action on the board's port. */
export function uhubctlArgs(spec: PowerSpec, action: PowerAction): string[] {
  const u = spec.uhubctl;
  const args = ['-l', u.location, '-p', String(u.port), '-a', action];
  if (action === 'cycle') args.push('-d', String(u.delay ?? UHUBCTL_DEFAULT_DELAY_S));
  return args;
}

/** Runs uhubctl; resolves with what it printed on success, throws PowerSwitchError otherwise. */
export function switchPower(spec: PowerSpec, action: PowerAction, opts: UhubctlOptions = {}): Promise<string> {
  const command = opts.command ?? 'uhubctl';
  const args = uhubctlArgs(spec, action);
  const shown = `${command} ${args.join(' ')}`;
  const timeoutMs = opts.timeoutMs ?? ((action === 'cycle' ? spec.uhubctl.delay ?? UHUBCTL_DEFAULT_DELAY_S : 0) * 1000 + 15_000);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    let settled = false;
    // env given explicitly: this process's environment as it is now (a test runner's sandbox
    // included), which is where PATH says which uhubctl runs.
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    const finish = (e: Error | null, v = '') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (e) reject(e);
      else resolve(v);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new PowerSwitchError(`${shown}: did not finish within ${Math.round(timeoutMs / 1000)} s`));
    }, timeoutMs);
    const onAbort = () => {
      child.kill('SIGKILL');
      finish(new PowerSwitchError(`${shown}: stopped (${String(opts.signal?.reason ?? 'aborted')})`));
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(new PowerSwitchError(e.code === 'ENOENT' ? `${command} not found on PATH: cannot power-cycle the board (Debian: apt-get install uhubctl)` : `${shown}: cannot start (${e.message})`));
    });
    child.on('close', (code, sig) => {
      if (code === 0) return finish(null, out);
      const said = (err.trim() || out.trim()).split(/\r?\n/).filter((l) => l && !/^Run with -h/.test(l)).join(' ');
      finish(new PowerSwitchError(`${shown}: ${said || 'no output'} (exit ${code ?? sig})`));
    });
  });
}

/** The board's power cycle as the device layer takes it (openDevice's `powerCycle`): `uhubctl ... -a cycle`. */
export function uhubctlPowerCycle(spec: PowerSpec, opts: UhubctlOptions = {}): () => Promise<void> {
  return async () => {
    await switchPower(spec, 'cycle', opts);
  };
}
