/**
 * RawRepl.exec of short code (plain raw mode, one write) and of longer code (raw-paste within
 * its window): the writes, the whole answer framed as it arrives (any split of its bytes), its
 * checks and its deadlines (fake clock: no timed assertions).
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { RawRepl } from './rawRepl.js';
import { ProgramStillRunningError, ProtocolError } from './errors.js';
import { RxBuffer } from '../transport/rxBuffer.js';
import { LinkClosedError, LinkTimeoutError } from '../transport/errors.js';
import type { Transport } from '../transport/transport.js';

/**
 * Test double of a link to a raw-paste board (window 128): answers the raw-paste request of the
 * first exec itself, and records every write; a test feeds the answers of later execs.
 */
class ScriptedLink implements Transport {
  readonly description = 'scripted';
  readonly rx = new RxBuffer('scripted');
  readonly isOpen = true;
  readonly writes: string[] = [];
  /** Answers the first exec itself (off once it is done: the tests feed the rest). */
  scripted = true;
  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async write(data: Uint8Array | string): Promise<void> {
    const s = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
    this.writes.push(s);
    if (!this.scripted) return;
    // The first exec: the raw-paste request alone, then the code and its end marker.
    if (s === '\x05A\x01') void Promise.resolve().then(() => this.rx.push(Buffer.from('R\x01\x80\x00', 'latin1')));
    else if (this.writes.length === 2) void Promise.resolve().then(() => this.rx.push(Buffer.from('\x04OK\x04\x04>', 'latin1')));
  }
  feed(s: string): void {
    this.rx.push(Buffer.from(s, 'latin1'));
  }
}

async function rawPasteRepl(): Promise<{ link: ScriptedLink; repl: RawRepl }> {
  const link = new ScriptedLink();
  const repl = new RawRepl(link);
  repl.inRaw = true;
  await repl.exec('x=1', 5000);
  expect(repl.rawPaste).toBe(true);
  link.scripted = false;
  link.writes.length = 0;
  return { link, repl };
}

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('exec of short code: plain raw mode, one write', () => {
  it('sends the code and its end marker in one write and reads the answer however it is split', async () => {
    const { link, repl } = await rawPasteRepl();
    const answer = 'OKhello\r\n\x04Traceback\x04>';
    for (const cut of [1, 2, 3, 9, 10, answer.length - 1]) {
      link.writes.length = 0;
      const r = repl.exec('print("hello")', 5000);
      await Promise.resolve();
      link.feed(answer.slice(0, cut));
      await jest.advanceTimersByTimeAsync(1);
      link.feed(answer.slice(cut));
      const { stdout, stderr } = await r;
      expect(link.writes).toEqual(['print("hello")\x04']);
      expect(stdout.toString()).toBe('hello\r\n');
      expect(stderr.toString()).toBe('Traceback');
      expect(link.rx.length).toBe(0);
    }
  });

  it('leaves what follows the prompt in the buffer', async () => {
    const { link, repl } = await rawPasteRepl();
    const r = repl.exec('pass', 5000);
    link.feed('OK\x04\x04>stray');
    expect((await r).stdout.length).toBe(0);
    expect(link.rx.drain().toString()).toBe('stray');
  });

  it('is a protocol error (and leaves the raw REPL) when the board does not answer OK', async () => {
    const { link, repl } = await rawPasteRepl();
    const r = repl.exec('pass', 5000).catch((e: unknown) => e);
    link.feed('raw REPL; CTRL-B to exit\r\n>');
    const e = await r;
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as Error).message).toMatch(/expected OK after the code, got "ra"/);
    expect(repl.inRaw).toBe(false);
  });

  it('gives the end of the code ACK_MS to be acknowledged: a link timeout, not the program running', async () => {
    const { link, repl } = await rawPasteRepl();
    const r = repl.exec('pass', 60_000).catch((e: unknown) => e);
    link.feed('O');
    await jest.advanceTimersByTimeAsync(5001);
    const e = await r;
    expect(e).toBeInstanceOf(LinkTimeoutError);
    expect(e).not.toBeInstanceOf(ProgramStillRunningError);
    expect((e as LinkTimeoutError).phase).toBe('exec-ok');
  });

  it('once acknowledged, waits the whole deadline for the output, then says the program is still running', async () => {
    const { link, repl } = await rawPasteRepl();
    const r = repl.exec('while True: pass', 20_000).catch((e: unknown) => e);
    link.feed('OKpartial');
    await jest.advanceTimersByTimeAsync(19_000);
    let settled = false;
    void r.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(1001);
    expect(await r).toBeInstanceOf(ProgramStillRunningError);
  });

  it('ends at once with a link error when the link closes mid-answer', async () => {
    const { link, repl } = await rawPasteRepl();
    const r = repl.exec('pass', 20_000).catch((e: unknown) => e);
    link.feed('OK');
    link.rx.markClosed('unplugged');
    expect(await r).toBeInstanceOf(LinkClosedError);
  });

  it('goes raw-paste for what plain raw mode would not take as it is: a control byte, nothing at all, a window or more', async () => {
    // pyexec.c: in plain raw mode Ctrl-A..Ctrl-D reset, leave, clear, end, and an empty line is a soft reset.
    for (const code of ['print("\x03")', 'x = "\x01\x02"', '', 'w'.repeat(128)]) {
      const { link, repl } = await rawPasteRepl();
      const r = repl.exec(code, 5000).catch((e: unknown) => e);
      await jest.advanceTimersByTimeAsync(1);
      expect(link.writes[0]!.startsWith('\x05A\x01')).toBe(true);
      link.feed('R\x01\x80\x00\x01\x04\x04\x04>');
      await jest.advanceTimersByTimeAsync(1);
      expect(await r).toEqual({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) });
    }
    // Up to one byte short of the window, with its end marker: typed.
    const { link, repl } = await rawPasteRepl();
    const r = repl.exec('v'.repeat(127), 5000);
    link.feed('OK\x04\x04>');
    await r;
    expect(link.writes).toEqual([`${'v'.repeat(127)}\x04`]);
  });

  it('asks for raw-paste first on a board not asked yet, and types short code in one write on a board that refused it', async () => {
    const link = new ScriptedLink();
    link.scripted = false;
    const repl = new RawRepl(link, { rawPasteProbeMs: 100 });
    repl.inRaw = true;
    const first = repl.exec('pass', 5000);
    await jest.advanceTimersByTimeAsync(1);
    expect(link.writes).toEqual(['\x05A\x01']);
    link.feed('R\x00>');
    await jest.advanceTimersByTimeAsync(1);
    link.feed('OK\x04\x04>');
    await first;
    expect(repl.rawPaste).toBe(false);
    link.writes.length = 0;
    const r = repl.exec('x = 2', 5000);
    link.feed('OK\x04\x04>');
    await r;
    expect(link.writes).toEqual(['x = 2\x04']);
  });
});

describe('collect (after submit): the output part of the same frame reader', () => {
  it('reads stdout, stderr and the prompt however split, leaving what follows', async () => {
    const link = new ScriptedLink();
    const repl = new RawRepl(link);
    for (const cut of [0, 2, 5, 6, 9, 10]) {
      const answer = 'hello\x04err\x04>';
      const r = repl.collect(Date.now() + 5000);
      link.feed(answer.slice(0, cut));
      await jest.advanceTimersByTimeAsync(1);
      link.feed(`${answer.slice(cut)}rest`);
      const { stdout, stderr } = await r;
      expect([stdout.toString(), stderr.toString()]).toEqual(['hello', 'err']);
      expect(link.rx.drain().toString()).toBe('rest');
    }
  });

  it('names the part that did not end by the one deadline', async () => {
    const link = new ScriptedLink();
    const repl = new RawRepl(link);
    for (const [sent, phase] of [['out', 'exec'], ['out\x04', 'exec-stderr'], ['out\x04err\x04', 'exec-prompt']] as const) {
      const r = repl.collect(Date.now() + 1000).catch((e: unknown) => e);
      link.feed(sent);
      await jest.advanceTimersByTimeAsync(1001);
      const e = await r;
      expect(e).toBeInstanceOf(LinkTimeoutError);
      expect((e as LinkTimeoutError).phase).toBe(phase);
      link.rx.drain();
    }
  });
});

describe('exec of code longer than a raw-paste window (window 128)', () => {
  /** Runs `code`, granting a window after each write until the end marker, and returns the writes. */
  async function pasted(code: string): Promise<string[]> {
    const { link, repl } = await rawPasteRepl();
    const r = repl.exec(code, 5000);
    for (let n = 0; n < 10 && !link.writes.some((w) => w.endsWith('\x04')); n++) {
      await jest.advanceTimersByTimeAsync(1);
      // The board's first answer carries the header and the grant of its second window.
      link.feed(n === 0 ? 'R\x01\x80\x00\x01' : '\x01');
    }
    await jest.advanceTimersByTimeAsync(1);
    link.feed('\x04\x04\x04>');
    await r;
    return link.writes;
  }

  it('sends the request with the first window of code, and the end marker with the last piece when the window has room', async () => {
    const code = 'x'.repeat(300);
    const writes = await pasted(code);
    expect(writes[0]).toBe(`\x05A\x01${code.slice(0, 128)}`);
    expect(writes.slice(1)).toEqual([code.slice(128, 256), `${code.slice(256)}\x04`]);
    expect(writes.join('')).toBe(`\x05A\x01${code}\x04`);
  });

  it('sends the end marker on its own when the last piece uses up the window', async () => {
    const code = 'y'.repeat(256);
    const writes = await pasted(code);
    expect(writes).toEqual([`\x05A\x01${code.slice(0, 128)}`, code.slice(128), '\x04']);
  });

  it('is a protocol error (and leaves the raw REPL) when the board answers a smaller window than the code already sent', async () => {
    const { link, repl } = await rawPasteRepl();
    const r = repl.exec('z'.repeat(300), 5000).catch((e: unknown) => e);
    await jest.advanceTimersByTimeAsync(1);
    link.feed('R\x01\x40\x00\x01');
    const e = await r;
    expect(e).toBeInstanceOf(ProtocolError);
    expect((e as Error).message).toMatch(/window changed to 64 bytes, 128 were sent/);
    expect(repl.inRaw).toBe(false);
  });
});
