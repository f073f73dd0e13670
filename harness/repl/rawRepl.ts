/**
 * The MicroPython raw REPL over one transport: entry, exec (raw-paste with a bounded fallback
 * to plain raw mode), soft reset. Protocol facts: docs/devices.md in the shared material.
 */
import type { Transport } from '../transport/transport.js';
import type { FrameReader } from '../transport/rxBuffer.js';
import { LinkTimeoutError } from '../transport/errors.js';
import { ProgramStillRunningError, ProtocolError } from './errors.js';
import { boardSource } from '../board/program.js';
import { compactPython } from '../board/compact.js';

export const RAW_PROMPT = 'raw REPL; CTRL-B to exit\r\n>';
/** How long the board may take to acknowledge the end of the code it was sent (ms). */
export const ACK_MS = 5000;
/** Ends the code of a raw-REPL program (micropython shared/runtime/pyexec.c: Ctrl-D). */
const END_OF_CODE = Buffer.from([0x04]);
/** Asks for raw-paste mode (micropython shared/runtime/pyexec.c: Ctrl-E A Ctrl-A). */
const RAW_PASTE_REQUEST = Buffer.from('\x05A\x01', 'latin1');
/** Enough zero bytes to complete any binary-channel frame of up to 8 KiB (see binaryChannel.ts). */
export const FLUSH_BYTES = 8192 + 16;
/**
 * Raw-REPL entry: how long the link may stay quiet after a Ctrl-A with no prompt before the
 * entry is tried again (ms), by attempt; the last is repeated until the entry's deadline.
 */
export const ENTRY_QUIET_MS = [500, 1000];
/**
 * What the board program device/entry_sync.py prints: after a retried entry, `enter` runs it in
 * plain raw mode and waits for `OK` then this (see RawRepl.sync). The text is not in the
 * program's source, so a friendly REPL's echo of it cannot match (entrySync.wasm.test.ts).
 */
export const ENTRY_SYNC_PRINTS = 'hil sync';

/** device/entry_sync.py as sent (compacted; read once per process, as binaryChannel.ts reads its program). */
export function entrySyncCode(): string {
  return compactPython(boardSource('device/entry_sync')).trimEnd();
}

export interface RawReplOptions {
  /** How long to wait for an answer to the raw-paste request before falling back (ms). */
  rawPasteProbeMs?: number;
  /** Plain raw mode: bytes per piece and the pause between pieces (mpremote: 256 and 10 ms). */
  plainPiece?: number;
  plainPauseMs?: number;
  /** Entry deadline (ms). */
  entryTimeoutMs?: number;
  /**
   * A link that may accept while the board is away and lose what is sent (a TCP port: socket://,
   * ser2net's rfc2217://): a prompt that does not come while the link is quiet is asked for again
   * on the ENTRY_QUIET_MS schedule. Off (a serial port, QEMU's pty, where a board can be silent
   * for a while and still read everything): the patient waits of before.
   */
  retryWhenQuiet?: boolean;
}

export interface RawExecResult {
  stdout: Buffer;
  stderr: Buffer;
}

export class RawRepl {
  /** null: not asked yet; true/false: the board's answer (or silence) to the raw-paste request. */
  rawPaste: boolean | null = null;
  /** The board's raw-paste window, once known. */
  private window = 0;
  inRaw = false;
  /**
   * False from the start of each `submit` until the first byte of its code is written: a link
   * fault while it is false happened before the board could have run any of the code.
   */
  codeWritten = false;
  private readonly o: Required<RawReplOptions>;

  constructor(private readonly t: Transport, opts: RawReplOptions = {}) {
    this.o = { rawPasteProbeMs: 400, plainPiece: 256, plainPauseMs: 10, entryTimeoutMs: 10000, retryWhenQuiet: false, ...opts };
  }

  /**
   * Interrupt whatever runs, drain banners and stray output, and enter the raw REPL. Ctrl-C is
   * repeated while output keeps coming (a program printing in a loop), up to the deadline.
   *
   * Ctrl-C, a flush of what came, then Ctrl-A and the wait for `raw REPL; CTRL-B to exit\r\n>`
   * are MicroPython's own entry (tools/mpremote/mpremote/transport_serial.py enter_raw_repl;
   * tools/pyboard.py likewise). A TCP link (socket://, ser2net's rfc2217://, the simulated board)
   * accepts while the board is away (resetting, not up yet) and drops those bytes, so there
   * (retryWhenQuiet) a prompt that does not come while the link is quiet is asked for again on a
   * short backoff (ENTRY_QUIET_MS) until the deadline, instead of waiting half of it. A board that
   * is talking (a banner, a program's output) is given the old patient wait before the next
   * attempt; without retryWhenQuiet every wait is the patient one.
   */
  async enter(timeoutMs = this.o.entryTimeoutMs): Promise<void> {
    const started = Date.now();
    const deadline = started + timeoutMs;
    const rx = this.t.rx;
    for (let attempt = 0; ; attempt++) {
      if (attempt === 0) await this.interrupt(deadline);
      else if (attempt === 1) await this.unstick();
      else {
        await this.t.write('\r\x03\x03');
        await rx.settle(60, 300);
      }
      await this.t.write('\x01');
      // The first attempt gives up at half the deadline at most (as before this schedule), the
      // others at the deadline; each sooner once the link has been quiet for its quiet time.
      const by = attempt === 0 ? Math.min(deadline, started + Math.max(1000, timeoutMs / 2)) : deadline;
      const quiet = this.o.retryWhenQuiet ? ENTRY_QUIET_MS[Math.min(attempt, ENTRY_QUIET_MS.length - 1)]! : Infinity;
      try {
        await rx.readFrame(new PromptWait(quiet, by));
      } catch (e) {
        if (!(e instanceof LinkTimeoutError) || Date.now() >= deadline) throw e;
        continue;
      }
      if (attempt === 0) {
        // Anything after the prompt (e.g. a second prompt from a repeated Ctrl-A) is stale.
        await rx.settle(20, 100);
      } else await this.sync(deadline);
      break;
    }
    this.inRaw = true;
  }

  /** Ctrl-C, repeated while output keeps coming (but not at a friendly prompt), then its output drained. */
  private async interrupt(deadline: number): Promise<void> {
    const rx = this.t.rx;
    await this.t.write('\r\x03');
    let junk = await rx.settle(60, 400);
    // Output that went quiet at the friendly prompt is a board idle at its REPL: each further
    // Ctrl-C would only print another prompt (and cost another quiet wait), never stop more.
    const atPrompt = (b: Buffer) => b.toString('latin1').endsWith('>>> ');
    for (let i = 0; i < 10 && junk.length > 0 && !atPrompt(junk) && Date.now() < deadline - 500; i++) {
      await this.t.write('\x03');
      junk = await rx.settle(60, 300);
    }
  }

  /**
   * A half-typed friendly line, a board still booting, or a program left waiting for binary
   * frames with Ctrl-C off (a hil that died mid-transfer): zero bytes fail its frame check and
   * end it; then back to the friendly REPL (Ctrl-B) for the next Ctrl-A.
   */
  private async unstick(): Promise<void> {
    const rx = this.t.rx;
    await this.t.write(Buffer.alloc(FLUSH_BYTES));
    await rx.settle(100, 1000);
    await this.t.write('\r\x03\x03\x02');
    await rx.settle(100, 1000);
  }

  /**
   * After more than one attempt, several Ctrl-A may have reached the board (one whose prompt was
   * late, one sent again), and each answers with a prompt (shared/runtime/pyexec.c: Ctrl-A in the
   * raw REPL goes back to raw_repl_reset). Which prompt was the last is not known from the bytes,
   * so a small program is run in plain raw mode: the board reads it after every Ctrl-A sent
   * before it (one byte stream), so its answer is the end of everything stale. The answer is
   * unique: `OK` then what the program prints, a text not in the program itself (a friendly
   * REPL's echo of it cannot match).
   */
  private async sync(deadline: number): Promise<void> {
    const rx = this.t.rx;
    await this.t.write(`${entrySyncCode()}\x04`);
    await rx.readUntil(`OK${ENTRY_SYNC_PRINTS}`, deadline, 'raw-repl-entry');
    await rx.readUntil('\x04', deadline, 'raw-repl-entry');
    await rx.readUntil('\x04', deadline, 'raw-repl-entry');
    await rx.readUntil('>', deadline, 'raw-repl-entry');
  }

  /** Run code; returns stdout and stderr (traceback) as raw bytes. */
  async exec(code: string, timeoutMs: number): Promise<RawExecResult> {
    this.codeWritten = false;
    const data = Buffer.from(code, 'utf8');
    // The code is in by this deadline; its output has timeoutMs from the board's acknowledgement.
    const sendMs = Math.min(timeoutMs, 15000);
    try {
      if (this.inRaw && this.typesInOneWrite(data)) return await this.execPlainInOneWrite(data, Date.now() + sendMs, timeoutMs);
      await this.submit(code, sendMs);
      return await this.collect(Date.now() + timeoutMs);
    } catch (e) {
      // The board acknowledged the code, so no end of its output by the deadline is the program
      // still running, not the link failing.
      if (e instanceof LinkTimeoutError && e.phase === 'exec') throw new ProgramStillRunningError(this.t.description, timeoutMs, { cause: e });
      throw e;
    }
  }

  /**
   * Whether `data` can go in plain raw mode, code and end marker in one write: the raw REPL of a
   * board whose input limits are known collects it as typed and answers `OK`, stdout, `\x04`,
   * stderr, `\x04`, `>`: the raw-paste answer without its request, its `R\x01`, its window and
   * its acknowledgement, so 6 bytes fewer over the link per exec (each a few tens of
   * microseconds on a UART or QEMU's). Only code that plain raw mode takes as it is: not empty
   * (an empty line is a soft reset) and without Ctrl-A..Ctrl-D (reset, leave, clear, end)
   * (micropython shared/runtime/pyexec.c, pyexec_raw_repl: "let through any other raw 8-bit
   * value"). No longer than the board buffers without flow control: its raw-paste window (the
   * board's own stdin buffer holds two) or, on a board without raw-paste, one plain piece, the
   * size plain raw mode already writes at once. Before the board's raw-paste answer is known,
   * never: the first exec asks for raw-paste and learns the window.
   */
  private typesInOneWrite(data: Buffer): boolean {
    const limit = this.rawPaste === true ? this.window : this.rawPaste === false ? this.o.plainPiece : 0;
    if (data.length === 0 || data.length + 1 > limit) return false;
    for (let i = 0; i < data.length; i++) if (data[i]! >= 0x01 && data[i]! <= 0x04) return false;
    return true;
  }

  /** `exec` in plain raw mode in one write (typesInOneWrite), the answer read as one frame (ExecAnswer.plain). */
  private async execPlainInOneWrite(data: Buffer, sendBy: number, timeoutMs: number): Promise<RawExecResult> {
    const out = Buffer.allocUnsafe(data.length + 1);
    data.copy(out, 0);
    out[data.length] = 4;
    const answer = ExecAnswer.plain(this.t.description, sendBy, timeoutMs);
    this.codeWritten = true;
    await this.t.write(out);
    return this.readAnswer(answer);
  }

  /** The board's answer as `answer` frames it; a protocol error leaves the raw REPL's state unknown. */
  private async readAnswer(answer: ExecAnswer): Promise<RawExecResult> {
    let frame: Buffer;
    try {
      frame = await this.t.rx.readFrame(answer);
    } catch (e) {
      if (e instanceof ProtocolError) this.inRaw = false;
      throw e;
    }
    return answer.parts(frame);
  }

  /**
   * Send code and have the board start running it: after this resolves, the board's stdout is
   * streaming (used by the binary channel, which talks to the running program).
   */
  async submit(code: string, timeoutMs: number): Promise<void> {
    this.codeWritten = false;
    if (!this.inRaw) await this.enter();
    const rx = this.t.rx;
    const deadline = Date.now() + timeoutMs;
    // The board answers the end of the code at once (before compiling it); a missing answer means
    // the code did not arrive whole, so that wait is short whatever the operation's deadline.
    const ackDeadline = () => Math.min(deadline, Date.now() + ACK_MS);
    const data = Buffer.from(code, 'utf8');
    if (this.rawPaste === true && this.window > 0) {
      // Known raw-paste board: the request and the first window of code in one write, with the
      // end marker when the whole code fits; the rest of a longer code as the board grants it.
      // Within flow control: the board's stdin buffer holds two windows, and its answer (the
      // window size, then 0x01) grants both (micropython shared/runtime/pyexec.c,
      // mp_reader_new_stdin: "sending the window size implicitly indicates that a window is free").
      this.codeWritten = true;
      const whole = data.length + 1 <= this.window;
      await this.t.write(Buffer.concat(whole ? [RAW_PASTE_REQUEST, data, END_OF_CODE] : [RAW_PASTE_REQUEST, data.subarray(0, this.window)]));
      const a = await rx.readExactly(2, ackDeadline(), 'raw-paste-request');
      if (a[0] !== 0x52 || a[1] !== 0x01) {
        this.inRaw = false;
        throw new ProtocolError(`${this.t.description}: raw-paste answer changed to ${JSON.stringify(a.toString('latin1'))}`, 'exec');
      }
      await this.sendRawPaste(data, deadline, whole ? data.length + 1 : this.window);
      return;
    }
    if (this.rawPaste !== false) {
      await this.t.write(RAW_PASTE_REQUEST);
      let answer: Buffer | null = null;
      try {
        answer = await rx.readExactly(2, Date.now() + (this.rawPaste === true ? timeoutMs : this.o.rawPasteProbeMs), 'raw-paste-request');
      } catch (e) {
        if (!(e instanceof LinkTimeoutError) || this.rawPaste === true) throw e;
      }
      if (answer && answer[0] === 0x52 && answer[1] === 0x01) {
        this.rawPaste = true;
        await this.sendRawPaste(data, deadline);
        return;
      }
      if (answer && answer[0] === 0x52 && answer[1] === 0x00) {
        // Refused: the board prints its raw prompt again and waits for code (pyexec.c).
        this.rawPaste = false;
        await rx.readUntil('>', ackDeadline(), 'raw-paste-request');
      } else {
        // No answer (event-driven REPLs) or noise: resynchronise, remember, use plain raw mode.
        this.rawPaste = false;
        this.inRaw = false;
        await this.enter();
      }
    }
    this.codeWritten = true;
    for (let i = 0; i < data.length; i += this.o.plainPiece) {
      await this.t.write(data.subarray(i, i + this.o.plainPiece));
      if (this.o.plainPauseMs > 0 && i + this.o.plainPiece < data.length) await new Promise((r) => setTimeout(r, this.o.plainPauseMs));
    }
    await this.t.write('\x04');
    const r = await rx.readExactly(2, ackDeadline(), 'exec-ok');
    if (r.toString('latin1') !== 'OK') {
      this.inRaw = false;
      throw new ProtocolError(`${this.t.description}: expected OK after the code, got ${JSON.stringify(r.toString('latin1'))}`, 'exec');
    }
  }

  /**
   * The code after the board's raw-paste answer `R\x01`: its window size, then the code within
   * flow control, then the end marker. `sent`: bytes already out with the request (the code's
   * first, and its end marker after it when the count passes the code's length).
   */
  private async sendRawPaste(data: Buffer, deadline: number, sent = 0): Promise<void> {
    const rx = this.t.rx;
    const w = await rx.readExactly(2, deadline, 'raw-paste-window');
    const windowSize = w.readUInt16LE(0);
    if (sent > windowSize) {
      this.inRaw = false;
      throw new ProtocolError(`${this.t.description}: raw-paste window changed to ${windowSize} bytes, ${sent} were sent on the last one's credit`, 'exec');
    }
    this.window = windowSize;
    let credit = windowSize - sent;
    let i = Math.min(sent, data.length);
    let ended = sent > data.length;
    this.codeWritten = true;
    while (i < data.length) {
      // Take in flow-control bytes that have arrived; wait for one when out of credit.
      while (rx.length > 0 || credit === 0) {
        const b = await rx.readExactly(1, deadline, 'raw-paste-flow');
        if (b[0] === 0x01) credit += windowSize;
        else if (b[0] === 0x04) {
          await this.t.write('\x04');
          this.inRaw = false;
          throw new ProtocolError(`${this.t.description}: the board aborted the raw-paste transfer`, 'exec');
        }
      }
      const n = Math.min(credit, data.length - i);
      const piece = data.subarray(i, i + n);
      i += n;
      credit -= n;
      // The end-of-code Ctrl-D goes with the last piece when the window still has room for it:
      // one write and one wake-up of the board fewer per program.
      if (i === data.length && credit > 0) {
        await this.t.write(Buffer.concat([piece, END_OF_CODE]));
        ended = true;
      } else await this.t.write(piece);
    }
    // As mpremote does, the Ctrl-D is sent once the code is out, whatever the credit left.
    if (!ended) await this.t.write(END_OF_CODE);
    // The board acknowledges the end of the code with \x04 (window credits may come first).
    const ackBy = Math.min(deadline, Date.now() + ACK_MS);
    for (;;) {
      const b = await rx.readExactly(1, ackBy, 'raw-paste-end');
      if (b[0] === 0x04) break;
    }
  }

  /**
   * After the code: stdout up to \x04, stderr up to \x04, then the `>` prompt, all by `deadline`
   * (the output part of the same frame reader as the one-write exec in plain raw mode).
   */
  collect(deadline: number): Promise<RawExecResult> {
    return this.readAnswer(ExecAnswer.output(this.t.description, deadline));
  }

  /** Ctrl-D in the raw REPL with nothing typed: the board reboots softly and comes back raw. */
  async softReset(timeoutMs: number): Promise<void> {
    if (!this.inRaw) await this.enter();
    const deadline = Date.now() + timeoutMs;
    await this.t.write('\x04');
    // Match loosely: a byte lost or garbled in these banners must not cost the whole deadline.
    await this.t.rx.readUntil('soft reboot', deadline, 'soft-reset');
    let exact = false;
    try {
      const r = await this.t.rx.readUntilAny([RAW_PROMPT, 'to exit\r\n>', 'REPL; CTRL-B'], deadline, 'soft-reset');
      exact = r.marker === 0;
      // The prompt's start often arrives before its end (a UART's pieces): wait for the end
      // briefly; only a prompt whose end does not come is re-entered.
      if (r.marker === 2) exact = await this.t.rx.readUntil('to exit\r\n>', Math.min(deadline, Date.now() + 300), 'soft-reset').then(() => true, () => false);
    } catch (e) {
      if (!(e instanceof LinkTimeoutError)) throw e;
    }
    if (!exact) {
      // A damaged prompt, or firmware that comes back to the friendly REPL: enter raw again.
      this.inRaw = false;
      await this.enter(Math.max(2000, deadline - Date.now()));
    }
    this.inRaw = true;
  }
}

/**
 * The board's answer to an exec, framed as it arrives; the one owner of its parts and phases.
 * `plain`: the answer to code sent in plain raw mode in one write: `OK`, which acknowledges the
 * end of the code (by ACK_MS and the send's own deadline), then the output with `timeoutMs`.
 * `output`: the output alone, after `submit` (which read the acknowledgement), by one deadline.
 * The output is stdout up to `\x04`, stderr up to `\x04`, then the `>` prompt (phases exec,
 * exec-stderr, exec-prompt: a missing end of stdout is still the program running).
 */
class ExecAnswer implements FrameReader {
  phase = 'exec-ok';
  deadline: number;
  private stdoutAt = 0;
  private stdoutEnd = 0;
  private stderrAt = 0;
  private stderrEnd = 0;
  private step = 0;
  private pos = 0;

  static plain(link: string, sendBy: number, timeoutMs: number): ExecAnswer {
    return new ExecAnswer(link, Math.min(sendBy, Date.now() + ACK_MS), timeoutMs);
  }

  static output(link: string, deadline: number): ExecAnswer {
    const a = new ExecAnswer(link, deadline, 0);
    a.step = 1;
    a.phase = 'exec';
    return a;
  }

  /** `deadline`: for the first part; `timeoutMs`: for the output, from the acknowledgement. */
  private constructor(private readonly link: string, deadline: number, private readonly timeoutMs: number) {
    this.deadline = deadline;
  }

  /** stdout and stderr in the frame this reader framed. */
  parts(frame: Buffer): RawExecResult {
    return { stdout: frame.subarray(this.stdoutAt, this.stdoutEnd), stderr: frame.subarray(this.stderrAt, this.stderrEnd) };
  }

  restart(): void {
    throw new ProtocolError(`${this.link}: the answer being read was taken by another reader`, this.phase);
  }

  scan(b: Buffer): number {
    if (this.step === 0) {
      if (b.length < 2) return -1;
      if (b[0] !== 0x4f || b[1] !== 0x4b) throw new ProtocolError(`${this.link}: expected OK after the code, got ${JSON.stringify(b.subarray(0, 2).toString('latin1'))}`, 'exec');
      this.step = 1;
      this.pos = this.stdoutAt = 2;
      this.phase = 'exec';
      this.deadline = Date.now() + this.timeoutMs;
    }
    if (this.step === 1) {
      const i = b.indexOf(4, this.pos);
      if (i < 0) return this.more(b);
      this.stdoutEnd = i;
      this.step = 2;
      this.pos = this.stderrAt = i + 1;
      this.phase = 'exec-stderr';
    }
    if (this.step === 2) {
      const i = b.indexOf(4, this.pos);
      if (i < 0) return this.more(b);
      this.stderrEnd = i;
      this.step = 3;
      this.pos = i + 1;
      this.phase = 'exec-prompt';
    }
    const i = b.indexOf(0x3e, this.pos);
    if (i < 0) return this.more(b);
    return i + 1;
  }

  private more(b: Buffer): number {
    this.pos = b.length;
    return -1;
  }
}

/**
 * The raw prompt, waited for while the link keeps talking: the wait ends `quietMs` after the last
 * byte (or the start) with no prompt, and at `by` at the latest.
 */
class PromptWait implements FrameReader {
  readonly phase = 'raw-repl-entry';
  deadline: number;
  private seen = -1;

  constructor(private readonly quietMs: number, private readonly by: number) {
    this.deadline = Math.min(by, Date.now() + quietMs);
  }

  restart(): void {
    this.seen = -1;
  }

  scan(b: Buffer): number {
    const i = b.indexOf(RAW_PROMPT, Math.max(0, this.seen - RAW_PROMPT.length + 1), 'latin1');
    if (i >= 0) return i + RAW_PROMPT.length;
    if (b.length > Math.max(0, this.seen)) this.deadline = Math.min(this.by, Date.now() + this.quietMs);
    this.seen = b.length;
    return -1;
  }
}
