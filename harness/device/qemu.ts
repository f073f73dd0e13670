/**
 * A QEMU-emulated board as a resource hil starts and stops: qemu-system-arm with the profile's
 * machine, the user's firmware, the ROMFS image loaded at the partition origin, serial on a pty.
 *
 * The pty is connected before the guest runs. QEMU's pty backend (chardev/char-pty.c) treats the
 * pty as disconnected while no program has its other end open, drops what the guest writes then,
 * and looks again only when the guest writes or once a second ("re-connect poll interval for idle
 * guests"). A board idle at its prompt writes nothing, so a link opened after the boot banner
 * waited up to a second for its first answer. So QEMU starts paused (-S), hil opens the pty
 * (a descriptor it holds while QEMU runs, never read), then resumes the guest through the
 * monitor on QEMU's stdin ("cont"): the banner lands in the pty and the link answers at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, constants as fsc, existsSync, openSync } from 'node:fs';
import { InfraError, UsageError } from '../errors.js';
import { guardChild } from '../lifecycle/guardChild.js';
import type { Scope } from '../lifecycle/scope.js';
import type { BoardProfile } from '../profile/profile.js';
import { LinkGoneError, LinkTimeoutError } from '../transport/errors.js';

export interface QemuOptions {
  profile: BoardProfile;
  firmware?: string;
  /** ROMFS image file to load at the partition origin. */
  image?: string;
  binary?: string;
  timeoutMs?: number;
  /** Load address of the image (default: the profile's partition origin). */
  addr?: number;
  /** The command's scope: QEMU is stopped when it is released (signals, any exit). */
  scope?: Scope;
}

export class QemuBoard {
  /** The end of what QEMU printed (its fatal error, when it dies). */
  private tail = '';

  private constructor(readonly process: ChildProcess, private readonly pty: string, readonly args: string[], output: string, private holder: number | null) {
    this.tail = output.slice(-2000);
    const keep = (d: Buffer) => (this.tail = (this.tail + withoutMonitor(d.toString())).slice(-2000));
    process.stdout?.on('data', keep);
    process.stderr?.on('data', keep);
    process.once('exit', () => this.release());
  }

  /** Close the descriptor that keeps the pty connected (once). */
  private release(): void {
    if (this.holder === null) return;
    try {
      closeSync(this.holder);
    } catch { /* already closed */ }
    this.holder = null;
  }

  get exited(): boolean {
    return this.process.exitCode !== null || this.process.signalCode !== null;
  }

  /**
   * The board's pty. Throws LinkGoneError once QEMU has exited: its pty number is free then and
   * may already belong to another program (a second board), which hil must never talk to.
   */
  get ptyPath(): string {
    if (this.exited) {
      const how = this.process.signalCode ? `signal ${this.process.signalCode}` : `code ${this.process.exitCode}`;
      const last = this.tail.trim().split('\n').find((l) => /fatal|error/i.test(l)) ?? this.tail.trim().split('\n').pop() ?? '';
      throw new LinkGoneError(`qemu-system-arm exited (${how}): ${last.trim()}`, 'qemu');
    }
    return this.pty;
  }

  static commandLine(o: QemuOptions, firmware: string): string[] {
    const machine = o.profile.qemu?.machine;
    // -S: paused until hil holds the pty open; the monitor on stdin resumes it (see the top).
    const args = ['-machine', machine!, '-nographic', '-S', '-monitor', 'stdio', '-semihosting', '-serial', 'pty', '-kernel', firmware];
    if (o.image) args.push('-device', `loader,file=${o.image},addr=0x${(o.addr ?? o.profile.partition.origin).toString(16)},force-raw=on`);
    return args;
  }

  static async start(o: QemuOptions): Promise<QemuBoard> {
    if (!o.profile.qemu) throw new UsageError(`profile ${o.profile.name} is not a QEMU board (no qemu.machine); use a qemu-* profile`);
    const firmware = o.firmware ?? process.env.HIL_QEMU_FIRMWARE;
    if (!firmware) throw new UsageError('no QEMU firmware: set HIL_QEMU_FIRMWARE to a firmware.elf built from MicroPython ports/qemu (or firmware: in the bench file)');
    if (!existsSync(firmware)) throw new UsageError(`${firmware}: QEMU firmware file not found`);
    if (o.image && !existsSync(o.image)) throw new UsageError(`${o.image}: image file not found`);
    const bin = o.binary ?? 'qemu-system-arm';
    const args = QemuBoard.commandLine(o, firmware);
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin!.on('error', () => undefined); // QEMU gone: its exit is reported below
    // QEMU must not outlive hil, however hil ends (SIGKILL included): a watchdog holds a pipe from us.
    guardChild(child);
    o.scope?.child(child, 'qemu-system-arm');
    const timeoutMs = o.timeoutMs ?? 10000;
    let text = '';
    const pty = await new Promise<string>((resolve, reject) => {
      const onData = (d: Buffer) => {
        text += withoutMonitor(d.toString());
        // QEMU prints this on stderr or stdout depending on version and -nographic.
        const m = /char device redirected to (\/dev\/pts\/\d+)/.exec(text);
        if (m) {
          clearTimeout(timer);
          child.stdout!.off('data', onData);
          child.stderr!.off('data', onData);
          resolve(m[1]!);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new LinkTimeoutError(`qemu-system-arm did not report its serial pty within ${timeoutMs} ms: ${text.trim().slice(-200)}`, 'qemu-start'));
      }, timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(qemuSpawnError(bin, e as NodeJS.ErrnoException));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new LinkTimeoutError(`qemu-system-arm exited with ${code} before the board came up: ${text.trim().split('\n').pop() ?? ''}`, 'qemu-start'));
      });
    });
    // Hold the pty open, then let the guest run. QEMU set the pty raw when it made it (no echo of
    // the guest's output back into its input). Without a descriptor (an open refused) the guest
    // still runs; the link then waits for QEMU's once-a-second look, as before.
    let holder: number | null = null;
    try {
      holder = openSync(pty, fsc.O_RDWR | fsc.O_NOCTTY | fsc.O_NONBLOCK);
    } catch { /* see above */ }
    child.stdin!.write('cont\n');
    return new QemuBoard(child, pty, args, text, holder);
  }

  async stop(): Promise<void> {
    const c = this.process;
    this.release();
    if (c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => c.kill('SIGKILL'), 2000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      c.kill('SIGTERM');
    });
  }
}

/** QEMU's output without its monitor's banner and prompts (they share stdout with its messages). */
function withoutMonitor(s: string): string {
  return s.replace(/QEMU [^\n]* monitor - type 'help' for more information\r?\n/g, '').replace(/\(qemu\) /g, '');
}

/**
 * The binary could not be started: not installed (ENOENT on PATH), a named path that does not
 * exist, or not executable: the user's setup, so exit 2. Nothing reached a board.
 */
function qemuSpawnError(bin: string, e: NodeJS.ErrnoException): Error {
  const install = 'install it: apt-get install qemu-system-arm';
  if (e.code === 'ENOENT') return new UsageError(bin.includes('/') ? `${bin}: no such QEMU binary (${install}, or fix the path)` : `${bin}: not found on PATH (${install})`);
  if (e.code === 'EACCES') return new UsageError(`${bin}: QEMU binary is not executable (permission denied)`);
  // EAGAIN, EMFILE and the like: this machine, not the user's input.
  return new InfraError(`${bin}: cannot start QEMU (${e.code ?? e.message})`, 'qemu-start');
}
