/**
 * Raw-paste on the simulated board, through its real pty, checked byte for byte against the
 * protocol of MicroPython's shared/runtime/pyexec.c (see rawPaste.ts): the answer and window, one
 * credit per window taken, the end and abort paths, a refused command, and requests damaged on
 * the link (doubled or dropped bytes) that must leave the board answering.
 */
import { SerialPort } from 'serialport';
import { startSim, type SimBoard } from './index.js';
import { RAW_PASTE_WINDOW } from './rawPaste.js';

const BANNER = 'raw REPL; CTRL-B to exit\r\n>';
const HEADER = Buffer.from([0x52, 0x01, RAW_PASTE_WINDOW & 0xff, RAW_PASTE_WINDOW >> 8, 0x01]);
const ABORTED = '\x04\x04KeyboardInterrupt: \r\n\x04>';

/** A byte-level client of the board's pty (not hil's engine). */
class Pty {
  private rx = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private constructor(private readonly port: SerialPort) {
    port.on('data', (d: Buffer) => {
      this.rx = Buffer.concat([this.rx, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    port.on('error', () => undefined);
  }
  static async open(path: string): Promise<Pty> {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    return new Pty(port);
  }
  send(b: Buffer | string): void {
    this.port.write(typeof b === 'string' ? Buffer.from(b, 'latin1') : b);
  }
  /** Everything up to and including `marker` (deadline 8 s). */
  async until(marker: string | Buffer): Promise<Buffer> {
    const m = typeof marker === 'string' ? Buffer.from(marker, 'latin1') : marker;
    const deadline = Date.now() + 8000;
    for (;;) {
      const i = this.rx.indexOf(m);
      if (i >= 0) {
        const out = this.rx.subarray(0, i + m.length);
        this.rx = this.rx.subarray(i + m.length);
        return out;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${JSON.stringify(m.toString('latin1'))} from the board; have ${JSON.stringify(this.rx.toString('latin1'))}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
  }
  /** Exactly n bytes. */
  async take(n: number): Promise<Buffer> {
    const deadline = Date.now() + 8000;
    while (this.rx.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`wanted ${n} bytes from the board; have ${JSON.stringify(this.rx.toString('latin1'))}`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, left);
        this.waiters.push(() => {
          clearTimeout(t);
          res();
        });
      });
    }
    const out = this.rx.subarray(0, n);
    this.rx = this.rx.subarray(n);
    return out;
  }
  close(): Promise<void> {
    return new Promise((res) => (this.port.isOpen ? this.port.close(() => res()) : res()));
  }
}

const started: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of started.splice(0).reverse()) await s.close();
});

async function rawBoard(): Promise<[SimBoard, Pty]> {
  const b = await startSim({ profile: 'openmv-h7' });
  started.push({ close: () => b.stop() });
  const p = await Pty.open(b.connection);
  started.push(p);
  p.send('\r\x03\x03');
  p.send('\x01');
  await p.until(BANNER);
  return [b, p];
}

/** Plain raw mode: code, Ctrl-D, the whole answer through the prompt. */
async function plainExec(p: Pty, code: string): Promise<string> {
  p.send(`${code}\x04`);
  return (await p.until('\x04>')).toString('latin1');
}

/** A program of exactly n bytes that prints `done`. */
function program(n: number): string {
  const tail = "print('done')\n";
  const pad = n - tail.length;
  const lines: string[] = [];
  let left = pad;
  while (left > 0) {
    const k = Math.min(left, 60);
    lines.push(k === 1 ? '\n' : `#${'x'.repeat(k - 2)}\n`);
    left -= k;
  }
  const s = lines.join('') + tail;
  if (s.length !== n) throw new Error(`program length ${s.length} != ${n}`);
  return s;
}

describe('raw-paste on the simulated board (pty)', () => {
  it('answers R\\x01, a 128-byte window little-endian and a first credit, then runs the code with no OK', async () => {
    const [, p] = await rawBoard();
    p.send('\x05A\x01');
    expect((await p.take(5)).equals(HEADER)).toBe(true);
    expect(RAW_PASTE_WINDOW).toBe(128);
    p.send('print(6 * 7)\nimport sys\nsys.stderr.write("")\n\x04');
    expect((await p.until('>')).toString('latin1')).toBe('\x0442\n\x04\x04>');
    // A traceback goes in the second section; the board is back at the raw prompt.
    p.send('\x05A\x01');
    expect((await p.take(5)).equals(HEADER)).toBe(true);
    p.send('print(1)\n1/0\x04');
    expect((await p.until('\x04>')).toString('latin1')).toBe(
      '\x041\n\x04Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\nZeroDivisionError: divide by zero\r\n\x04>',
    );
  });

  it('takes a whole program sent in one write within the first two windows (request, code and end together)', async () => {
    const [, p] = await rawBoard();
    const code = program(2 * RAW_PASTE_WINDOW);
    p.send(`\x05A\x01${code}\x04`);
    expect((await p.until('>')).toString('latin1')).toBe(`${HEADER.toString('latin1')}\x01\x01\x04done\n\x04\x04>`);
  });

  it('grants one more window each time it has taken one, never before (flow control)', async () => {
    const [, p] = await rawBoard();
    // Where the credits fall, pinned by an abort right after: 127 bytes earn none, 128 one, 256 two.
    for (const [n, credits] of [[127, 0], [128, 1], [255, 1], [256, 2]] as const) {
      p.send('\x05A\x01');
      expect((await p.take(5)).equals(HEADER)).toBe(true);
      p.send(Buffer.concat([Buffer.alloc(n, 0x23), Buffer.from([0x03])]));
      expect((await p.until('\x04>')).toString('latin1')).toBe('\x01'.repeat(credits) + ABORTED);
    }
    // A host that waits for each credit, as the protocol requires, over many windows.
    const code = program(7 * RAW_PASTE_WINDOW + 50);
    p.send('\x05A\x01');
    expect((await p.take(5)).equals(HEADER)).toBe(true);
    let credit = 2 * RAW_PASTE_WINDOW;
    let i = 0;
    let credits = 0;
    while (i < code.length) {
      if (credit === 0) {
        expect((await p.take(1))[0]).toBe(0x01);
        credits++;
        credit += RAW_PASTE_WINDOW;
      }
      const n = Math.min(credit, code.length - i);
      p.send(code.slice(i, i + n));
      i += n;
      credit -= n;
    }
    p.send('\x04');
    const rest = (await p.until('>')).toString('latin1');
    // Every window taken earned a credit: 7 in all, the first ones already read above.
    expect('\x01'.repeat(credits) + rest).toBe(`${'\x01'.repeat(7)}\x04done\n\x04\x04>`);
  });

  it('aborts on Ctrl-C from the host as the firmware does, and the raw REPL line starts afresh', async () => {
    const [, p] = await rawBoard();
    p.send('\x05A\x01');
    expect((await p.take(5)).equals(HEADER)).toBe(true);
    p.send('print("never")\x03');
    expect((await p.until('>')).toString('latin1')).toBe(ABORTED);
    expect(await plainExec(p, 'print("after")')).toBe('OKafter\n\x04\x04>');
  });

  it('refuses a command other than A with R\\x00 and stays at the raw prompt', async () => {
    const [, p] = await rawBoard();
    p.send('\x05B\x01');
    expect((await p.take(3)).toString('latin1')).toBe('R\x00>');
    expect(await plainExec(p, 'print(2)')).toBe('OK2\n\x04\x04>');
  });

  it('soft resets after SystemExit in pasted code, as after the same code in plain raw mode', async () => {
    const [, p] = await rawBoard();
    p.send('\x05A\x01');
    expect((await p.take(5)).equals(HEADER)).toBe(true);
    p.send('raise SystemExit\x04');
    expect((await p.until(BANNER)).toString('latin1')).toBe(`\x04\x04\x04MPY: soft reboot\r\n${BANNER}`);
  });

  it('never wedges on a request damaged on the link: each answer is what firmware gives, and the board goes on', async () => {
    const [, p] = await rawBoard();
    const check = async () => {
      p.send('\x05A\x01print("ok")\x04');
      expect((await p.until('>')).toString('latin1')).toBe(`${HEADER.toString('latin1')}\x04ok\n\x04\x04>`);
    };
    // Ctrl-E doubled, Ctrl-E lost, 'A' lost: the line is not Ctrl-E + one byte, so Ctrl-A resets.
    for (const req of ['\x05\x05A\x01', 'A\x01', '\x05\x01']) {
      p.send(req);
      expect((await p.until('>')).toString('latin1')).toBe(BANNER);
      await check();
    }
    // Ctrl-E X Ctrl-A with X = Ctrl-E: a request for command 0x05, refused.
    p.send('\x05\x05\x01');
    expect((await p.take(3)).toString('latin1')).toBe('R\x00>');
    await check();
    // Ctrl-A lost: the request stays in the line as code, which does not compile.
    p.send('\x05Aprint(1)\x04');
    expect((await p.until('\x04>')).toString('latin1')).toBe(
      'OK\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1\r\nSyntaxError: invalid syntax\r\n\x04>',
    );
    await check();
    // Ctrl-A doubled: the second one is pasted code, which does not compile either.
    p.send('\x05A\x01\x01print(1)\x04');
    expect((await p.until('\x04>')).toString('latin1')).toBe(
      `${HEADER.toString('latin1')}\x04\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1\r\nSyntaxError: invalid syntax\r\n\x04>`,
    );
    await check();
    // A raw 0x01 inside a string literal is a byte of that string, as on a real board.
    p.send("\x05A\x01print(len('\x01'), ord('\x01'))\x04");
    expect((await p.until('>')).toString('latin1')).toBe(`${HEADER.toString('latin1')}\x041 1\n\x04\x04>`);
  });
});
