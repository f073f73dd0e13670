/**
 * A Device driven through the raw REPL over one transport (serial, TCP). Operations are
 * serialised (one at a time on the wire), each with a deadline; every byte is in the transcript.
 */
import pRetry, { AbortError } from 'p-retry';
import type { BoardProfile } from '../profile/profile.js';
import type { BoardIdentity } from './identify.js';
import type { Transport } from '../transport/transport.js';
import { LinkClosedError, LinkTimeoutError } from '../transport/errors.js';
import { RawRepl, type RawReplOptions } from '../repl/rawRepl.js';
import { DeviceExceptionError } from '../repl/errors.js';
import { LinkTranscript } from '../repl/transcript.js';
import { streamToBoard } from '../repl/binaryChannel.js';
import { InfraError } from '../errors.js';
import { SealedWrapper, querySealed, runSealed, sealStream, type SealedTarget } from './sealed.js';
import { markNotSent } from './resend.js';
import { boardSource } from '../board/program.js';
import type { BinaryReceiver, BinaryTransferOptions, BinaryTransferResult, Device, ExecOptions, ExecResult } from './types.js';

export interface ReplDeviceOptions {
  name: string;
  /** The profile, when known before connecting (else set from the board's identity: adoptProfile). */
  profile?: BoardProfile;
  connection: string;
  transport: Transport;
  repl?: RawReplOptions;
  /** Resources to release on close (a QEMU process, a simulated board). */
  onClose?: () => Promise<void>;
  /** Default deadline of one operation (ms). */
  defaultTimeoutMs?: number;
  /** How long a board may take to come back after machine.reset() (ms). */
  reconnectTimeoutMs?: number;
  /** Link-fault retries when entering the raw REPL. */
  retries?: number;
  /** For boards hil runs under QEMU: restart QEMU with an image loaded at `addr`. */
  qemuRestart?: (imagePath: string, addr: number) => Promise<void>;
  /** Where hil controls the board's power (QEMU it started, its simulated board): cut it and restore it. */
  powerCycle?: () => Promise<void>;
  /**
   * Called before every board operation (connect, exec, transfer, reset, the goodbye on close);
   * a throw stops it before a byte is sent. The bench layer passes its lease's fence here.
   */
  beforeOperation?: () => Promise<void>;
  /**
   * The board was just booted for this device (a QEMU or simulated board hil started): its
   * globals hold no sealed wrapper, so the first sealed query defines it without asking.
   */
  freshBoard?: boolean;
}

export class ReplDevice implements Device {
  readonly name: string;
  private profileValue: BoardProfile | undefined;
  /** What the board reported on connect (harness/device/identify.ts). */
  identity?: BoardIdentity;
  /** True when the profile was chosen from the board's identity (no profile was given). */
  profileDetected = false;
  readonly connection: string;
  readonly transcript = new LinkTranscript();
  readonly transport: Transport;
  readonly repl: RawRepl;
  private queue: Promise<unknown> = Promise.resolve();
  /**
   * Set when a binary transfer was cut off: the board program may still be waiting for a frame
   * with Ctrl-C disabled, so the next connection first sends this many zero bytes, which fail
   * its frame check and end it.
   */
  private flushBytes = 0;
  private closed = false;
  /** See Device.powerCycle: only where the board's power is hil's to cut. */
  readonly powerCycle?: (opts?: ExecOptions) => Promise<void>;
  /**
   * The sealed wrapper as this connection knows it (sealed.ts): not on a board just booted, not
   * known on another (a board another hil used keeps it; the board says when it does not),
   * forgotten on every reset and power cycle.
   */
  readonly sealedWrapper: SealedWrapper;

  constructor(private readonly o: ReplDeviceOptions) {
    this.sealedWrapper = new SealedWrapper(o.freshBoard ? false : null);
    this.name = o.name;
    this.profileValue = o.profile;
    this.connection = o.connection;
    this.transport = o.transport;
    this.transport.onTraffic = (dir, data, owned) => this.transcript.add(dir, data, owned);
    this.repl = new RawRepl(this.transport, o.repl);
    const restart = o.qemuRestart;
    if (restart) {
      // Only QEMU boards hil started have this (flash's qemu-loader strategy looks for it).
      (this as unknown as { restartWithRomfsImage: unknown }).restartWithRomfsImage = (imagePath: string, addr: number, opts: { timeoutMs?: number } = {}) =>
        this.serial(async () => {
          this.transcript.note(`QEMU restart with ${imagePath} at 0x${addr.toString(16)}`);
          this.sealedWrapper.forget();
          await this.transport.close();
          this.repl.inRaw = false;
          this.repl.rawPaste = null;
          await restart(imagePath, addr);
          await this.connect(opts.timeoutMs ?? 30000);
        });
    }
    const power = o.powerCycle;
    if (power) {
      this.powerCycle = async (opts: ExecOptions = {}) => {
        this.transcript.note('power cycle');
        this.sealedWrapper.forget();
        // Not queued behind the operation in progress (a crashed board never ends it): closing
        // the link ends that wait with a link error, then the board is brought back.
        await this.transport.close().catch(() => undefined);
        await power();
        await this.serial(async () => {
          await this.transport.close().catch(() => undefined);
          this.repl.inRaw = false;
          this.repl.rawPaste = null;
          await this.connect(opts.timeoutMs ?? 30000);
        });
      };
    }
  }

  get profile(): BoardProfile {
    if (!this.profileValue) throw new InfraError(`${this.name}: the board's profile is not known yet (identity not read)`, 'identify');
    return this.profileValue;
  }

  /** The profile chosen from (or checked against) what the board reported on connect. */
  adoptProfile(profile: BoardProfile, identity: BoardIdentity, detected: boolean): void {
    this.profileValue = profile;
    this.identity = identity;
    this.profileDetected = detected;
    // The firmware's, so it outlives resets: sealed requests go packed from now on where that pays.
    this.sealedWrapper.inflate = identity.inflate === true;
  }

  private get timeout(): number {
    return this.o.defaultTimeoutMs ?? 30000;
  }

  /** One operation at a time on the wire. */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const check = this.o.beforeOperation;
    const fn = check
      ? async () => {
          await check();
          return op();
        }
      : op;
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Open the link and enter the raw REPL, retrying link faults (not board errors) a few times. */
  async connect(timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    if (this.o.beforeOperation) await this.o.beforeOperation();
    await pRetry(
      async () => {
        const left = deadline - Date.now();
        if (left <= 0) throw new AbortError(new LinkTimeoutError(`${this.name}: board not ready within ${timeoutMs} ms`, 'connect'));
        if (!this.transport.isOpen) await this.transport.open(Math.max(500, left));
        if (this.flushBytes > 0) {
          this.transcript.note(`flushing an interrupted binary transfer (${this.flushBytes} zero bytes)`);
          await this.transport.write(Buffer.alloc(this.flushBytes));
          this.flushBytes = 0;
        }
        this.repl.inRaw = false;
        await this.repl.enter(Math.max(1000, deadline - Date.now()));
      },
      {
        retries: this.o.retries ?? 2,
        minTimeout: 200,
        maxTimeout: 1000,
        shouldRetry: ({ error }) => error instanceof LinkClosedError || error instanceof LinkTimeoutError,
        onFailedAttempt: async ({ error }) => {
          this.transcript.note(`connect attempt failed: ${error.message}`);
          if (!this.transport.isOpen || error instanceof LinkClosedError) await this.transport.close().catch(() => undefined);
        },
      },
    );
  }

  /**
   * Sends `code` once and returns what it printed. Never sent again here (resend.ts decides that
   * for callers that may): a link fault before any byte of it was written is marked as such.
   */
  execRaw(code: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return this.serial(() => this.execOnce(code, opts.timeoutMs ?? this.timeout));
  }

  /** One send of `code` (callers hold the wire). */
  private async execOnce(code: string, timeoutMs: number): Promise<ExecResult> {
    this.repl.codeWritten = false;
    try {
      if (!this.linkReady) await this.ensureLink();
      const r = await this.repl.exec(code, timeoutMs);
      return { stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
    } catch (e) {
      if (!this.repl.codeWritten) markNotSent(e);
      return this.onFault(e);
    }
  }

  /** This device as the sealed layer sees it, for use while this device already holds the wire. */
  private get unlocked(): SealedTarget {
    return { name: this.name, execRaw: (code, opts = {}) => this.execOnce(code, opts.timeoutMs ?? this.timeout), sealedWrapper: this.sealedWrapper };
  }

  async exec(code: string, opts: ExecOptions = {}): Promise<string> {
    const r = await this.execRaw(code, opts);
    if (r.stderr.length) throw new DeviceExceptionError(this.name, r.stderr);
    return r.stdout;
  }

  /** `expr` evaluated on the board, answered as a sealed query (a damaged answer is a link fault). */
  async evalJson<T = unknown>(expr: string, opts: ExecOptions = {}): Promise<T> {
    const { value } = await querySealed<T>(this, `_hil_answer(${expr})`, { phase: 'exec', timeoutMs: opts.timeoutMs, crash: 'device' });
    return value;
  }

  sendBinary(receiver: BinaryReceiver, data: Uint8Array, opts: BinaryTransferOptions = {}): Promise<BinaryTransferResult> {
    return this.serial(async () => {
      await this.ensureLink();
      const t0 = performance.now();
      const timeoutMs = opts.timeoutMs ?? Math.max(this.timeout, 30000 + data.length / 2);
      // Setup and finish run sealed: one that arrived damaged is sent again only on the board's proof.
      const setup = await runSealed(this.unlocked, receiver.setup, { phase: 'transfer-setup', timeoutMs });
      if (setup.stderr.trim()) throw new DeviceExceptionError(this.name, setup.stderr);
      const chunkSize = Math.min(opts.chunkSize ?? 2048, 8192); // FLUSH_BYTES (8192 + 16) completes any frame up to 8 KiB with its 12-byte header
      const r = await streamToBoard(this.name, this.transport, this.repl, receiver.sink, data, {
        chunkSize,
        timeoutMs,
        startOffset: opts.startOffset ?? 0,
        onProgress: opts.onProgress,
        seal: sealStream(this.name, 'transfer', this.sealedWrapper), // the setup just defined it if needed
      }).catch((e) => {
        if (!(e instanceof DeviceExceptionError)) this.flushBytes = chunkSize * 3 + 16;
        return this.onFault(e);
      });
      let finishOutput = '';
      if (receiver.finish) {
        const f = await runSealed(this.unlocked, receiver.finish, { phase: 'transfer-finish', timeoutMs });
        if (f.stderr.trim()) throw new DeviceExceptionError(this.name, f.stderr);
        finishOutput = f.printed;
      }
      return { bytes: r.bytes, sha256: r.sha256, finishOutput, elapsedMs: performance.now() - t0 };
    });
  }

  softReset(opts: ExecOptions = {}): Promise<void> {
    return this.serial(async () => {
      await this.ensureLink();
      this.sealedWrapper.forget(); // the board's globals go with the soft reset
      await this.repl.softReset(opts.timeoutMs ?? 15000).catch((e) => this.onFault(e));
    });
  }

  hardReset(opts: ExecOptions = {}): Promise<void> {
    return this.serial(async () => {
      await this.ensureLink();
      const timeoutMs = opts.timeoutMs ?? this.o.reconnectTimeoutMs ?? 20000;
      this.transcript.note('hard reset: machine.reset()');
      this.sealedWrapper.forget();
      await this.repl.exec(boardSource('device/reset_mark'), 5000).catch((e) => this.onFault(e));
      let acknowledged = true;
      try {
        await this.repl.submit(boardSource('device/hard_reset'), 5000);
      } catch (e) {
        // The board may reset (and the link drop or go quiet) before its acknowledgement reaches
        // us: that may be the reset. Whether it was is checked once the board is back.
        if (!(e instanceof LinkClosedError || e instanceof LinkTimeoutError)) throw e;
        acknowledged = false;
      }
      // The link drops (USB re-enumeration, pty recreated); close our end and find it again.
      await this.transport.rx.readUntil('\x00never\x00', Date.now() + 1500, 'hard-reset').catch(() => undefined);
      await this.transport.close();
      this.repl.inRaw = false;
      this.repl.rawPaste = this.repl.rawPaste === true ? null : this.repl.rawPaste;
      await this.connect(timeoutMs);
      if (!acknowledged) {
        const { value: stillMarked } = await querySealed<boolean>(this.unlocked, boardSource('device/reset_check'), { phase: 'hard-reset', idempotent: true });
        if (stillMarked) throw new InfraError(`${this.name}: the board did not reset (machine.reset() was not acknowledged and the interpreter kept its state)`, 'hard-reset');
      }
    });
  }

  /** Open, in the raw REPL and not closed: nothing for ensureLink to do (checked without a wait). */
  private get linkReady(): boolean {
    return !this.closed && this.repl.inRaw && this.transport.isOpen && !this.transport.rx.closed;
  }

  /** A closed link (board reset under us) is reopened before the next operation. */
  private async ensureLink(): Promise<void> {
    if (this.closed) throw new InfraError(`${this.name}: device is closed`, 'closed');
    if (!this.transport.isOpen || this.transport.rx.closed) {
      await this.transport.close().catch(() => undefined);
      await this.connect();
    } else if (!this.repl.inRaw) {
      await this.repl.enter();
    }
  }

  /** After a link fault the REPL state is unknown: force re-entry next time. */
  private onFault(e: unknown): never {
    this.repl.inRaw = false;
    throw e;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // The goodbye is a board operation too: not sent to a board whose lease is no longer ours.
      const ours = this.o.beforeOperation ? await this.o.beforeOperation().then(() => true, () => false) : true;
      if (ours && this.transport.isOpen && this.repl.inRaw) await this.transport.write('\x02').catch(() => undefined);
      await this.transport.close();
    } finally {
      await this.o.onClose?.();
    }
  }
}
