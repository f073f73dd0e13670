/**
 * Board programs: the Python hil runs on a board (or on the simulated board) lives in real `.py`
 * files in this folder, so what hil runs on a cam can be read, and tested as Python, in one place.
 * A program is loaded as text and parametrised by JSON: `boardProgram('flash/probe', {id: 0})`
 * returns the file's source preceded by one line binding `_P` to the parameters, which the file
 * reads as `_P['id']`. Parameters travel as a JSON string decoded on the board, so no value can
 * change the program's syntax; a bytes parameter (a program's code sent to run, a source) travels
 * as a Python bytes literal (pyBytesLiteral, exact for every byte value), so it is escaped once
 * rather than as a JSON string inside the literal (every 128 bytes sent is a raw-paste round trip).
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { checkoutPath } from '../checkout.js';
import { ConfigError } from '../errors.js';
import { compactPython } from './compact.js';

export type BoardParams = Record<string, unknown>;

/** The folder holding the board programs (`harness/board` in hil's checkout). */
export function boardProgramDir(): string {
  return checkoutPath('harness', 'board');
}

/**
 * Board programs' sources by name, each file read once: they are hil's own shipped files (like
 * its modules, they do not change while hil runs), and reading one again for every probe on
 * every board of a bench was a measurable part of hil's CPU (issue 15: 16 boards, the same
 * checks on each). A name that is not found is not kept (asked again, it is looked for again).
 */
export class BoardSources {
  private readonly texts = new Map<string, string>();
  /** How many files were read (not answered from memory). */
  reads = 0;
  constructor(private readonly dir: () => string = boardProgramDir) {}

  get(name: string): string {
    let text = this.texts.get(name);
    if (text === undefined) {
      const file = join(this.dir(), `${name}.py`);
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        throw new ConfigError(`${file}: board program not found (${(e as NodeJS.ErrnoException).code ?? e})`);
      }
      this.reads++;
      this.texts.set(name, text);
    }
    return text;
  }
}

/** The one reader behind boardSource (a fixed set of shipped files: what it holds changes no answer). */
const sources = new BoardSources();

/** The `.py` source of a board program, by name relative to this folder without `.py`. */
export function boardSource(name: string): string {
  return sources.get(name);
}

/**
 * A Python bytes literal holding exactly `b`, escaped once: printable ASCII kept, `\n` `\r` `\t`
 * and the backslash as their two-character escapes, the quote as `\'` or `\"`, every other byte
 * as `\xNN`. Delimited by whichever quote `b` holds fewer of (board code is mostly `'`).
 */
export function pyBytesLiteral(b: Uint8Array): string {
  // One byte a character (latin1), then only the bytes that need it escaped: a regular
  // expression's pass, not a string built a byte at a time (a sealed request's whole code goes
  // through here on every send).
  let single = 0;
  let double = 0;
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x27) single++;
    else if (b[i] === 0x22) double++;
  }
  const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  return double < single ? `b"${text.replace(NOT_KEPT_DOUBLE, escapeByte)}"` : `b'${text.replace(NOT_KEPT_SINGLE, escapeByte)}'`;
}

/** Everything but printable ASCII other than the delimiter and `\\`. */
const NOT_KEPT_SINGLE = /[^\x20-\x26\x28-\x5b\x5d-\x7e]/g;
const NOT_KEPT_DOUBLE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

const SHORT_ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeByte(c: string): string {
  return SHORT_ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** A bytes value escaped once (pyBytesLiteral), for a value sent as a parameter again and again. */
export class PyBytes {
  readonly literal: string;
  constructor(readonly bytes: Uint8Array) {
    this.literal = pyBytesLiteral(bytes);
  }
}

/**
 * The lines that bind `_P` on the board to `params` (JSON as UTF-8 bytes, decoded there), and
 * to `bytes`: each entry a bytes value of `_P`, carried as one bytes literal (a program's code
 * or source sent as a parameter is escaped once, not as a JSON string inside a bytes literal;
 * a PyBytes was escaped when it was made). No parameters bind `_P` to an empty dict without
 * importing json.
 */
export function paramsLine(params: BoardParams, bytes: Record<string, Uint8Array | PyBytes> = {}): string {
  let line = Object.keys(params).length === 0 ? '_P = {}\n' : `_P = __import__('json').loads(${pyBytesLiteral(Buffer.from(JSON.stringify(params), 'utf8'))})\n`;
  for (const [k, v] of Object.entries(bytes)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`board parameter name ${JSON.stringify(k)} is not an identifier`);
    line += `_P['${k}'] = ${v instanceof PyBytes ? v.literal : pyBytesLiteral(v)}\n`;
  }
  return line;
}

/** A board program ready to send: `_P` bound to `params`, then the file's source. */
export function boardProgram(name: string, params: BoardParams = {}): string {
  return paramsLine(params) + boardSource(name);
}

/**
 * A board program as sent: `_P` bound to `params`, then the file's source compacted
 * (compact.ts). Only the source is compacted, so each file is compacted once per process
 * whatever its parameters; compacting the whole program made every new parameter value (a
 * nonce, a length, a partition) a miss of compactPython's cache and an eviction from it.
 */
export function compactBoardProgram(name: string, params: BoardParams = {}): string {
  return paramsLine(params) + compactPython(boardSource(name));
}

/** Every board program's name (for the test that compiles them all). */
export function listBoardPrograms(dir = boardProgramDir()): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (f.endsWith('.py')) out.push(relative(dir, p).split(sep).join('/').slice(0, -3));
    }
  };
  walk(dir);
  return out;
}
