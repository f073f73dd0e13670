/**
 * RawRepl.enter on a link that accepts while the board is away (a TCP port: socket://, ser2net,
 * the simulated board): bytes sent then are lost. Fake clock: no timed assertions; the deadline
 * given to enter is what is held.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { ENTRY_SYNC_PRINTS, RawRepl, entrySyncCode } from './rawRepl.js';

/** The sync program (harness/board/device/entry_sync.py) and its answer, as this fake board knows them. */
const SYNC = { code: entrySyncCode(), answer: `OK${ENTRY_SYNC_PRINTS}` };
import { RxBuffer } from '../transport/rxBuffer.js';
import { LinkTimeoutError } from '../transport/errors.js';
import type { Transport } from '../transport/transport.js';

/**
 * Test double of a board behind a TCP port, modelled on shared/runtime/pyexec.c: friendly REPL
 * (Ctrl-C prints a new prompt, Ctrl-A enters raw mode), raw REPL (Ctrl-A prints the raw prompt
 * again, Ctrl-C clears the line, Ctrl-B back to friendly, Ctrl-D runs the line: `OK`, output,
 * `\x04\x04>`). Bytes written before `awayUntil` are lost; from then the board boots for `bootMs`
 * (input kept, answered after its banner); each answer leaves `answerMs` after its input (a busy
 * board: answers arrive late, after more input was sent).
 */
class AwayBoard implements Transport {
  readonly description = 'away-board';
  readonly rx = new RxBuffer('away-board');
  readonly isOpen = true;
  tx = '';
  private raw = false;
  private line = '';
  private upAt: number;

  constructor(private readonly awayUntil: number, bootMs = 0, private readonly answerMs = 0) {
    this.upAt = awayUntil + bootMs;
    setTimeout(() => this.rx.push(Buffer.from('\r\nMicroPython v1.27.0 OpenMV\r\nType "help()" for more information.\r\n>>> ', 'latin1')), this.upAt - Date.now());
  }
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async write(data: Uint8Array | string): Promise<void> {
    const s = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
    this.tx += s;
    if (Date.now() < this.awayUntil) return; // nobody behind the port: lost
    const out = this.answer(s);
    if (!out) return;
    const at = Math.max(Date.now(), this.upAt) + this.answerMs;
    // Split like a UART's pieces: a prompt's start may come before its end.
    const cut = Math.floor(out.length / 2);
    setTimeout(() => this.rx.push(Buffer.from(out.slice(0, cut), 'latin1')), at - Date.now());
    setTimeout(() => this.rx.push(Buffer.from(out.slice(cut), 'latin1')), at + 1 - Date.now());
  }
  private answer(s: string): string {
    let out = '';
    for (const c of s) {
      if (!this.raw) {
        if (c === '\x03') out += '\r\nKeyboardInterrupt\r\n>>> ';
        else if (c === '\x01') {
          this.raw = true;
          out += '\r\nraw REPL; CTRL-B to exit\r\n>';
        }
      } else if (c === '\x01') {
        this.line = '';
        out += 'raw REPL; CTRL-B to exit\r\n>';
      } else if (c === '\x02') {
        this.raw = false;
        out += '\r\nMicroPython v1.27.0 OpenMV\r\n>>> ';
      } else if (c === '\x03') this.line = '';
      else if (c === '\x04') {
        const code = this.line;
        this.line = '';
        out += `OK${code === SYNC.code ? `${SYNC.answer.slice(2)}\r\n` : code.startsWith('print(') ? `${code.slice(7, -2)}\r\n` : ''}\x04\x04>`;
      } else this.line += c;
    }
    return out;
  }
}

async function enterAndExec(board: AwayBoard, timeoutMs: number, retryWhenQuiet = true): Promise<{ entered: Promise<void>; repl: RawRepl }> {
  const repl = new RawRepl(board, { plainPauseMs: 0, retryWhenQuiet });
  repl.rawPaste = false; // plain raw mode: a stale prompt in front of its 'OK' would be a protocol error
  return { entered: repl.enter(timeoutMs), repl };
}

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('raw-REPL entry on a link that accepts while the board is away', () => {
  it('asks again while the link is quiet and enters soon after the board is back, within a deadline the old half-deadline wait missed', async () => {
    // Away for 6 s of a 10 s deadline: one wait of half the deadline, then one retry, both lost.
    const board = new AwayBoard(Date.now() + 6000, 300);
    const { entered, repl } = await enterAndExec(board, 10000);
    const done = entered.then(() => 'entered', (e) => e);
    await jest.advanceTimersByTimeAsync(10000);
    expect(await done).toBe('entered');
    const ctrlA = board.tx.split('\x01').length - 1;
    expect(ctrlA).toBeGreaterThan(2);
    // Every attempt but the last few went to nobody: about one per second of the board's absence.
    expect(ctrlA).toBeLessThan(12);
    const r = repl.exec("print('after')", 5000);
    await jest.advanceTimersByTimeAsync(100);
    expect((await r).stdout.toString()).toBe('after\r\n');
  });

  it('is not confused by the prompts of Ctrl-A sent again to a board that answers late', async () => {
    // Present from the start but busy: every answer comes 1.5 s after its input, so attempts pile
    // up and their prompts (split in pieces) arrive after the first one was matched.
    const board = new AwayBoard(Date.now(), 200, 1500);
    const { entered, repl } = await enterAndExec(board, 10000);
    const done = entered.then(() => 'entered', (e) => e);
    await jest.advanceTimersByTimeAsync(10000);
    expect(await done).toBe('entered');
    expect(board.tx).toContain(`${SYNC.code}\x04`);
    expect(repl.inRaw).toBe(true);
    expect(board.rx.length).toBe(0); // nothing stale left in front of the next answer
    const r = repl.exec("print('clean')", 5000);
    await jest.advanceTimersByTimeAsync(2000);
    expect((await r).stdout.toString()).toBe('clean\r\n');
  });

  it('enters a board that answers at once without asking twice (no sync program)', async () => {
    const board = new AwayBoard(Date.now());
    const { entered } = await enterAndExec(board, 10000);
    await jest.advanceTimersByTimeAsync(1000);
    await entered;
    expect(board.tx).toBe('\r\x03\x01');
  });

  it('without retryWhenQuiet (a serial port, QEMU pty) waits patiently for a board silent a while: one Ctrl-A', async () => {
    const board = new AwayBoard(Date.now(), 0, 1500);
    const { entered } = await enterAndExec(board, 10000, false);
    await jest.advanceTimersByTimeAsync(4000);
    await entered;
    expect(board.tx).toBe('\r\x03\x01');
  });

  it('still ends at the deadline when the board never comes back', async () => {
    const board = new AwayBoard(Date.now() + 60_000);
    const { entered } = await enterAndExec(board, 5000);
    const done = entered.then(() => 'entered', (e) => e);
    await jest.advanceTimersByTimeAsync(5001);
    const err = await done;
    expect(err).toBeInstanceOf(LinkTimeoutError);
    expect((err as LinkTimeoutError).phase).toBe('raw-repl-entry');
  });
});
