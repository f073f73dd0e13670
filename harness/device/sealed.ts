/**
 * Sealed queries: board programs whose request and answer both carry a checksum, so a byte
 * damaged on the link is told apart from a finding about the board.
 *
 * The raw REPL has no integrity check of its own. A bit flipped in a string literal of a probe
 * (`import app` arriving as `import aqp`) still compiles and gives a wrong answer, and a bit
 * flipped in a hash or name in the answer reads as a file that differs. Both would be reported as
 * a fault in the product (seen in the run fault matrix). So:
 * - the request travels as a bytes literal with its crc32 (or Adler-32 on firmware without
 *   `binascii.crc32`); the board checks it before `exec`. A damaged request runs nothing and is
 *   sent again;
 * - the program calls `_hil_answer(value)`, which prints one marked line: the request's id, a
 *   checksum of the JSON, the JSON. A damaged or missing answer line is an AnswerIntegrityError
 *   (an infrastructure error, exit 3), and an `idempotent` query is asked once more first.
 */
import { crc32 } from 'node:zlib';
import type { Device, ExecResult } from './types.js';
import { InfraError } from '../errors.js';
import { DeviceExceptionError } from '../repl/errors.js';

/** Starts every sealed answer line (and the "request damaged" line). */
export const ANSWER_MARKER = '@@hil@@';

export class AnswerIntegrityError extends InfraError {
  constructor(message: string, phase: string) {
    super(message, phase);
    this.name = 'AnswerIntegrityError';
  }
}

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

export function adler32(b: Uint8Array): number {
  let a = 1;
  let c = 0;
  for (const x of b) {
    a = (a + x) % 65521;
    c = (c + a) % 65521;
  }
  return ((c << 16) | a) >>> 0;
}

/** The board's checksum text for `b`: `c` + crc32, or `a` + Adler-32 where crc32 is missing. */
function sums(b: Uint8Array): { crc: string; adler: string } {
  return { crc: `c${hex8(crc32(b))}`, adler: `a${hex8(adler32(b))}` };
}

/** A Python bytes literal holding exactly `b` (printable ASCII kept, the rest escaped). */
export function pyBytesLiteral(b: Uint8Array): string {
  const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
  return `b'${text.replace(/[\\'\n]|[^\x20-\x7e]/g, (c) => (c === '\\' ? '\\\\' : c === "'" ? "\\'" : c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}'`;
}

/** The program sent for `code`: checks the request, defines `_hil_answer`, runs the code. */
export function sealRequest(code: string): { program: string; id: string } {
  const body = Buffer.from(code, 'utf8');
  const { crc, adler } = sums(body);
  const program = `_hil_q = ${pyBytesLiteral(body)}
def _hil_sum(b):
    try:
        import binascii
        return 'c%08x' % (binascii.crc32(b) & 0xffffffff)
    except (ImportError, AttributeError):
        a = 1
        c = 0
        for x in b:
            a = (a + x) % 65521
            c = (c + a) % 65521
        return 'a%08x' % ((c << 16) | a)
def _hil_answer(v):
    import json
    s = json.dumps(v)
    print('\\n${ANSWER_MARKER}${crc} ' + _hil_sum(s.encode()) + ' ' + s)
if _hil_sum(_hil_q) not in ('${crc}', '${adler}'):
    print('\\n${ANSWER_MARKER}damaged-request')
else:
    exec(_hil_q)
`;
  return { program, id: crc };
}

export interface SealedAnswer<T> {
  value: T;
  /** What the board printed before the answer line (output of code under test). */
  printed: string;
  /** The board's stderr (the program crashed before answering when there is no value). */
  stderr: string;
}

export type AnswerParse<T> =
  | { kind: 'answer'; answer: SealedAnswer<T> }
  /** The request failed its check on the board, or the wrapper itself arrived broken. */
  | { kind: 'damaged-request' }
  | { kind: 'none'; why: string }
  | { kind: 'damaged-answer'; why: string };

/** Reads the sealed answer of request `id` out of a program's output. */
export function parseAnswer<T>(r: ExecResult, id: string): AnswerParse<T> {
  const at = r.stdout.lastIndexOf(ANSWER_MARKER);
  if (at < 0) {
    // The innermost frame of a traceback is the sealed wrapper (`<stdin>`) only when the wrapper
    // itself arrived damaged: the code it runs is `<string>`, modules are files.
    // An error with no frame at all was raised compiling the program as received (the lexer's
    // `\N` escape error, a bad literal): also damage, as hil's programs compile. Not MemoryError.
    const frames = [...r.stderr.matchAll(/File "([^"]*)"/g)].map((x) => x[1]);
    if (frames.length > 0 && frames[frames.length - 1] === '<stdin>') return { kind: 'damaged-request' };
    if (frames.length === 0 && r.stderr.trim() && !/MemoryError/.test(r.stderr)) return { kind: 'damaged-request' };
    // No exception, so the wrapper printed its answer line: it was lost or damaged on the way.
    if (!r.stderr.trim()) return { kind: 'damaged-answer', why: `answer line lost (${JSON.stringify(r.stdout.slice(-60))})` };
    const why = r.stderr.trim() ? r.stderr.trim().split(/\r?\n/).slice(-1)[0]! : `no answer (${JSON.stringify(r.stdout.slice(-120))})`;
    return { kind: 'none', why };
  }
  const line = r.stdout.slice(at + ANSWER_MARKER.length).split(/\r?\n/)[0]!;
  if (line === 'damaged-request') return { kind: 'damaged-request' };
  const m = /^(\S+) (\S+) (.*)$/s.exec(line);
  if (!m) return { kind: 'damaged-answer', why: `answer line malformed: ${JSON.stringify(line.slice(0, 80))}` };
  const [, rid, sum, json] = m as unknown as [string, string, string, string];
  if (rid !== id) return { kind: 'damaged-answer', why: `answer to another request (${rid.slice(0, 12)})` };
  const b = Buffer.from(json, 'utf8');
  // Only the kind the board used is computed (Adler-32 is for firmware without crc32).
  const expected = sum.startsWith('a') ? `a${hex8(adler32(b))}` : `c${hex8(crc32(b))}`;
  if (sum !== expected) return { kind: 'damaged-answer', why: 'answer checksum does not match' };
  let value: T;
  try {
    value = JSON.parse(json) as T;
  } catch {
    return { kind: 'damaged-answer', why: 'answer is not JSON' };
  }
  return { kind: 'answer', answer: { value, printed: r.stdout.slice(0, at).replace(/\r?\n$/, ''), stderr: r.stderr } };
}

export interface QueryOptions {
  /** Names the step in errors (`listing`, `probe`, `hash`). */
  phase: string;
  timeoutMs?: number;
  /** Safe to run twice (reads only): a damaged answer is asked for once more before failing. */
  idempotent?: boolean;
  /**
   * A program that raises before answering: `infra` (default) is an InfraError naming the phase;
   * `device` is a DeviceExceptionError carrying the board's traceback (a board-side error).
   */
  crash?: 'infra' | 'device';
}

/**
 * Runs `code` (which must call `_hil_answer(value)` once) sealed, and returns the checked value.
 * A damaged request is re-sent (it ran nothing); a damaged answer is an AnswerIntegrityError
 * after one more try when the query is idempotent. A program that crashes before answering
 * throws InfraError with the board's last stderr line.
 */
export async function querySealed<T>(device: Device, code: string, opts: QueryOptions): Promise<SealedAnswer<T>> {
  const { program, id } = sealRequest(code);
  let damagedAnswers = 0;
  for (let attempt = 0; ; attempt++) {
    const r = await device.execRaw(program, { timeoutMs: opts.timeoutMs });
    const p = parseAnswer<T>(r, id);
    if (p.kind === 'answer') return p.answer;
    if (p.kind === 'damaged-request') {
      if (attempt < 2) continue;
      throw new AnswerIntegrityError(`${device.name}: the ${opts.phase} program kept arriving damaged (checksum mismatch on the board): link fault`, opts.phase);
    }
    if (p.kind === 'damaged-answer') {
      damagedAnswers++;
      if (opts.idempotent && damagedAnswers < 2 && attempt < 2) continue;
      throw new AnswerIntegrityError(`${device.name}: the ${opts.phase} answer arrived damaged (${p.why}): link fault`, opts.phase);
    }
    if (opts.crash === 'device' && r.stderr.trim()) throw new DeviceExceptionError(device.name, r.stderr);
    throw new InfraError(`${device.name}: the ${opts.phase} program did not answer: ${p.why}`, opts.phase);
  }
}
