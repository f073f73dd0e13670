/**
 * Raw-paste mode of the raw REPL, answered for the simulated board as MicroPython firmware
 * answers it. The wasm port's REPL cannot do it itself (its stdin read returns 0 for ever, so a
 * raw-paste request hangs it), so the board process hands every raw-mode byte to `RawPaste.take`
 * first, and the paste is served here; the code received is then run through the wasm REPL's
 * plain raw mode, whose answer is translated (its `OK` dropped: raw-paste has none).
 *
 * Protocol facts, from MicroPython's shared/runtime/pyexec.c (`pyexec_raw_repl_process_char`,
 * `do_reader_stdin`, `mp_reader_new_stdin`, `mp_reader_stdin_readbyte`, `parse_compile_execute`):
 * - The raw REPL collects a line; a Ctrl-A when that line is exactly Ctrl-E plus one byte X is a
 *   raw-paste request for command X. Any other Ctrl-A resets the raw REPL (banner and `>`), so a
 *   doubled or dropped byte in `\x05A\x01` gives a banner, never a hang.
 * - X other than 'A': the board answers `R\x00`, then `>`.
 * - 'A': `R\x01`, the window (half of MICROPY_REPL_STDIN_BUFFER_MAX, 256 by default and on the
 *   stm32 and mimxrt ports: 128) as 2 bytes little-endian, then `\x01` (the host may have two
 *   windows in flight). Each time the board has taken a window of bytes it sends `\x01` again.
 * - Ctrl-D from the host ends the code: the board sends `\x04`, compiles and runs it, then
 *   stdout, `\x04`, stderr (a traceback), `\x04`, `>`.
 * - Ctrl-C from the host aborts: the board sends `\x04`, raises KeyboardInterrupt (without a
 *   traceback) from its reader, so `\x04`, `KeyboardInterrupt: \r\n`, `\x04`, `>` follow.
 * - A SystemExit (or machine.soft_reset()) in the code ends in a soft reset instead of `>`.
 *
 * One difference from a real board: the firmware's lexer reads the code as it parses, so a
 * syntax error before the end makes it send `\x04` early (the host then ends with `\x04`); the
 * simulated board takes the whole code first and reports the error after the host's `\x04`.
 * Both are valid answers a host must handle. And a raw 0x01 or 0x02 byte in the code (which the
 * wasm REPL's line would act on) goes to it as its escape `\x01` / `\x02`, which reads the same
 * except in a raw-string literal.
 */

/** MicroPython's default MICROPY_REPL_STDIN_BUFFER_MAX (no stm32 or mimxrt board overrides it). */
export const STDIN_BUFFER_MAX = 256;
/** The raw-paste flow-control window: half the stdin buffer (pyexec.c, mp_reader_new_stdin). */
export const RAW_PASTE_WINDOW = STDIN_BUFFER_MAX / 2;

const CTRL_A = 0x01;
const CTRL_B = 0x02;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_E = 0x05;

/** The serial line as the raw-paste reader uses it. */
export interface RawPasteLink {
  /** The next byte from the host; blocks (pending output flushed first). */
  readByte(): number;
  /** Bytes to the host. */
  write(b: Uint8Array | string): void;
  /** Send what was written so far now (before the board goes off to run code). */
  flush(): void;
}

/** The wasm REPL: one byte in, its result (PYEXEC_FORCED_EXIT means soft reset). */
export interface ReplInput {
  replProcessChar(c: number): number;
}

export class RawPaste {
  // Mirror of the wasm raw REPL's line (only its length and first two bytes matter).
  private lineLen = 0;
  private line0 = -1;
  private line1 = -1;
  /** Bytes of the wasm REPL's `OK` still to drop from the output. */
  private dropOk = 0;

  constructor(private readonly link: RawPasteLink) {}

  /**
   * Every byte from the host, before it goes to the REPL; `rawMode` says whether the REPL is in
   * raw mode. Returns null when the byte is the REPL's (pass it on), or, when the byte completed
   * a raw-paste request that was then served here, the REPL's result for it (0, or
   * PYEXEC_FORCED_EXIT when the code ended in a soft reset); that byte must not reach the REPL.
   */
  take(ch: number, rawMode: boolean, repl: ReplInput): number | null {
    if (!rawMode) {
      this.clearLine(); // entering raw mode starts with an empty line
      return null;
    }
    if (ch === CTRL_A && this.lineLen === 2 && this.line0 === CTRL_E) {
      const cmd = this.line1;
      this.clearLine();
      repl.replProcessChar(CTRL_C); // the wasm REPL's line held Ctrl-E X: clear it (no output)
      return this.serve(cmd, repl);
    }
    if (ch === CTRL_A || ch === CTRL_B || ch === CTRL_C || ch === CTRL_D) this.clearLine();
    else {
      if (this.lineLen === 0) this.line0 = ch;
      else if (this.lineLen === 1) this.line1 = ch;
      this.lineLen++;
    }
    return null;
  }

  /** Output filter: true when the byte is the wasm REPL's `OK` after pasted code (dropped). */
  drops(c: number): boolean {
    if (this.dropOk === 0) return false;
    const want = this.dropOk === 2 ? 0x4f : 0x4b;
    if (c !== want) {
      this.dropOk = 0;
      return false;
    }
    this.dropOk--;
    return true;
  }

  private clearLine(): void {
    this.lineLen = 0;
    this.line0 = -1;
    this.line1 = -1;
  }

  private serve(cmd: number, repl: ReplInput): number {
    if (cmd !== 0x41) {
      this.link.write('R\x00>');
      return 0;
    }
    const w = RAW_PASTE_WINDOW;
    this.link.write(Buffer.from([0x52, 0x01, w & 0xff, w >> 8, CTRL_A]));
    const code: number[] = [];
    let remain = w;
    for (;;) {
      const c = this.link.readByte();
      if (c === CTRL_C) {
        this.link.write('\x04\x04KeyboardInterrupt: \r\n\x04>');
        return 0;
      }
      if (c === CTRL_D) break;
      code.push(c);
      if (--remain === 0) {
        this.link.write('\x01');
        remain = w;
      }
    }
    // The board acknowledges the end of the code before compiling and running it (pyexec.c):
    // a host sees that `\x04` even while the code then runs forever (a busy loop is a program
    // still running, not a silent link).
    this.link.write('\x04');
    this.link.flush();
    for (const c of code) {
      if (c === CTRL_A || c === CTRL_B) {
        // Those bytes would act on the wasm REPL's line instead of joining it. Their escape reads
        // the same in a string literal and a comment and is a SyntaxError elsewhere, as the raw
        // byte is (only a raw-string literal r'' would see four characters instead of one).
        for (const e of Buffer.from(`\\x0${c}`, 'latin1')) repl.replProcessChar(e);
      } else repl.replProcessChar(c);
    }
    this.dropOk = 2;
    try {
      return repl.replProcessChar(CTRL_D);
    } finally {
      this.dropOk = 0;
    }
  }
}
