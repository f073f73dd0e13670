/**
 * The contract every layer above the device uses (flash, scenario, bench, CLI).
 * A Device is one board reached over one link, driven through the MicroPython raw REPL.
 * Implementations: harness/device/device.ts (serial, TCP, QEMU-started, and the simulated board,
 * which is reached over a pty or TCP like any other board).
 */
import type { BoardProfile } from '../profile/profile.js';
import type { BoardIdentity } from './identify.js';

export interface ExecOptions {
  /** Deadline for the whole operation in milliseconds (every operation has one; defaults apply). */
  timeoutMs?: number;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/**
 * A program that runs on the board and consumes a binary stream sent by the host through the
 * binary channel. `setup` is Python run once before the stream (defining state), `sink` is the
 * name of a Python function `sink(buf: memoryview, offset: int)` called for each received chunk,
 * `finish` is Python run after the stream whose printed output is returned.
 */
export interface BinaryReceiver {
  setup: string;
  sink: string;
  finish?: string;
}

export interface BinaryTransferOptions extends ExecOptions {
  /** Chunk size in bytes (defaults to what the board's free heap allows). */
  chunkSize?: number;
  /** Called after each acknowledgement, with the bytes the board has taken so far (one per group of frames). */
  onProgress?: (sentBytes: number, totalBytes: number) => void;
  /** Offset in `data` to start from (resume). Offsets given to the sink are absolute. */
  startOffset?: number;
}

export interface BinaryTransferResult {
  bytes: number;
  /**
   * sha256 (hex) of the bytes sent, which the board proved it received (each frame's offset and
   * running CRC-32, then the count and the final CRC); a receiver that must prove more hashes them itself.
   */
  sha256: string;
  /** Output printed by the receiver's `finish` code. */
  finishOutput: string;
  elapsedMs: number;
}

export interface Device {
  /** Inventory name or connection string, used in every message about this board. */
  readonly name: string;
  readonly profile: BoardProfile;
  /** What the board reported about itself on connect (absent for doubles that do not connect). */
  readonly identity?: BoardIdentity;
  /** True when `profile` was chosen from `identity` because none was given. */
  readonly profileDetected?: boolean;
  /** The connection string it was opened with, e.g. `/dev/ttyACM0`, `socket://127.0.0.1:4000`. */
  readonly connection: string;

  /** Run code, return stdout; a device exception throws DeviceExceptionError (with traceback). */
  exec(code: string, opts?: ExecOptions): Promise<string>;
  /**
   * Run code, return stdout and stderr kept apart, without throwing on a traceback. The code is
   * sent once, never again whatever it printed or raised (re-sending is decided by resend.ts).
   */
  execRaw(code: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Evaluate a Python expression whose value is JSON-serialisable; returns the parsed value. */
  evalJson<T = unknown>(expr: string, opts?: ExecOptions): Promise<T>;
  /** Send bytes to a receiver program over the binary channel (length- and hash-checked). */
  sendBinary(receiver: BinaryReceiver, data: Uint8Array, opts?: BinaryTransferOptions): Promise<BinaryTransferResult>;
  /** Ctrl-D soft reset; waits until the raw REPL is back (boot re-runs, /rom re-mounted). */
  softReset(opts?: ExecOptions): Promise<void>;
  /** machine.reset(), then reconnect by identity and re-enter the raw REPL. */
  hardReset(opts?: ExecOptions): Promise<void>;
  /**
   * Present only where hil can cut the board's power itself (a QEMU board it started: QEMU
   * restarted with the same image; its simulated board): brings back a board that no longer
   * answers (crashed in a HardFault), then reconnects and re-enters the raw REPL. It does not
   * wait for the operation in progress: that one ends with a link error.
   */
  powerCycle?(opts?: ExecOptions): Promise<void>;
  /** The byte-exact transcript of both directions. */
  readonly transcript: Transcript;
  close(): Promise<void>;
}

export interface TranscriptRecord {
  /** Milliseconds since the transcript started. */
  t: number;
  dir: 'tx' | 'rx' | 'note';
  data: Uint8Array;
}

export interface Transcript {
  readonly records: readonly TranscriptRecord[];
  /** Write the transcript to a file (a human-readable, byte-exact escaped form). */
  writeTo(path: string): Promise<void>;
}
