/**
 * Sealed queries: board programs whose request and answer both carry a checksum, so a byte
 * damaged on the link is told apart from a finding about the board, and whose answer no output of
 * the code under test can imitate.
 *
 * The raw REPL has no integrity check of its own. A bit flipped in a string literal of a probe
 * (`import app` arriving as `import aqp`) still compiles and gives a wrong answer, and a bit
 * flipped in a hash or name in the answer reads as a file that differs. Both would be reported as
 * a fault in the product (seen in the run fault matrix). So each request runs in the wrapper
 * harness/board/device/sealed.py, given the request's code (as one bytes literal, escaped once),
 * its checksum and a fresh random nonce as parameters. The board checks the code's checksum
 * before `exec` (crc32, or Adler-32 on firmware without binascii.crc32: only the kind the board
 * is known to use is sent, both while the connection has not seen a frame of it); the code calls
 * `_hil_answer(value)`; after it ends (or raises) the wrapper prints one frame as the LAST line of
 * output: nonce, kind, the board's checksum of the code it ran, the payload's length, a checksum
 * of all of it, the payload (see sealed.py). The host reads only that last line and accepts it
 * only whole: its nonce, length and checksum exact. A file named like a frame, a print of a fake
 * frame, a traceback holding one: none is the last line, none knows the nonce.
 *
 * The wrapper is defined once per connection, not sent with every request (it was most of a small
 * query's bytes, and every 128 bytes sent is a round trip of the raw-paste window): the first
 * request to a board just booted, and any after the board may have lost it (soft or hard reset,
 * power cycle), carries sealed_define.py (on a board of unknown state, one another hil may have
 * used, only a request longer than the definition does: SealedWrapper.defines), which defines
 * it only if its source's checksum is right on the board, and keeps it in the globals under a
 * name holding the hash of that source. Every request then goes
 * through sealed_call.py, which runs the wrapper of the expected hash only, and otherwise runs
 * nothing and says so (`@@hil NONCE W`): the request is then sent again with the definition
 * (WrapperMissingError, resend.ts). What the host believes of the board is a SealedWrapper, one
 * per device: whether the wrapper is there (forgotten by the device on every reset) and which
 * checksum the board computes (a firmware's, kept across resets; learnt from the checksum of
 * an intact frame, forgotten when a definition sent with it alone was not taken). The Adler-32
 * code (sealed_adler.py) goes with a definition only for a board shown to need it.
 *
 * To a board whose identity has `deflate.DeflateIO`, a request's code (and the wrapper's source,
 * when a definition goes with it) is sent packed where that saves a raw-paste window or more: the
 * base64 of its raw deflate stream (packCode), with `z` (`y` for the source) in the parameters.
 * The checksums are of the packed bytes, so the board checks them before it inflates anything:
 * damage is caught as before, and the code that runs is the code the host packed.
 *
 * Re-sending is decided by resend.ts: a request is sent again only when the board's
 * damaged-request frame proves it ran nothing (or it never left the host), or when the caller
 * declared it `idempotent`.
 */
import { randomBytes } from 'node:crypto';
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Device, ExecOptions, ExecResult } from './types.js';
import { InfraError } from '../errors.js';
import { DeviceExceptionError } from '../repl/errors.js';
import { PyBytes, boardSource, compactBoardProgram, paramsLine, pyBytesLiteral } from '../board/program.js';
import { compactPython } from '../board/compact.js';
import { TextCache } from '../board/textCache.js';
import { NotRunError, WrapperMissingError, provenNotRun, sendWithResend } from './resend.js';

export { pyBytesLiteral };

/** Starts every sealed answer frame (found by position, never searched for). */
export const ANSWER_MARKER = '@@hil';

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
  // Reduced every 2048 bytes, not every byte: up to then both sums stay below 2^31 (zlib's NMAX idea).
  for (let i = 0; i < b.length; ) {
    const end = Math.min(i + 2048, b.length);
    for (; i < end; i++) {
      a += b[i]!;
      c += a;
    }
    a %= 65521;
    c %= 65521;
  }
  return ((c << 16) | a) >>> 0;
}

/** The board's checksum text for `b` of the kind `like` starts with: `c` crc32, `a` Adler-32. */
function sumLike(like: string, b: Uint8Array): string {
  return like.startsWith('a') ? `a${hex8(adler32(b))}` : `c${hex8(crc32(b))}`;
}

type WrapperPrograms = Pick<SealedWrapper, 'hash' | 'adler' | 'define' | 'call' | 'adlerSum' | 'sent' | 'packed'>;
let programs: WrapperPrograms | undefined;

/**
 * The wrapper's programs, read, compacted and hashed once per process (they are the same for
 * every connection; each device used to read and compact them on open).
 */
function wrapperPrograms(): WrapperPrograms {
  if (!programs) {
    const source = compactPython(boardSource('device/sealed'));
    const bytes = Buffer.from(source, 'utf8');
    const packed = packBytes(bytes);
    programs = {
      sent: new PyBytes(bytes), hash: `c${hex8(crc32(bytes))}`, adler: `a${hex8(adler32(bytes))}`,
      packed: { sent: new PyBytes(packed), crc: `c${hex8(crc32(packed))}`, adler: `a${hex8(adler32(packed))}` },
      define: compactPython(boardSource('device/sealed_define')), call: compactPython(boardSource('device/sealed_call')), adlerSum: compactPython(boardSource('device/sealed_adler')),
    };
  }
  return programs;
}

/**
 * What a request's code gives every send of it: its bytes literal and its crc32 (the Adler-32
 * only once a send needs it). A pure function of the text, so it is kept: a bench sends the same
 * check program, with the same parameters, to every board, and a flash the same probe again.
 */
interface CodeFacts {
  body: PyBytes;
  crc: string;
  adler?: string;
}

/** CodeFacts by code text (board/textCache.ts); the Adler-32 added once a send needs it. */
export class SealedCodeCache extends TextCache<CodeFacts> {
  constructor(max = 64) {
    super((code) => {
      const body = Buffer.from(code, 'utf8');
      return { body: new PyBytes(body), crc: `c${hex8(crc32(body))}` };
    }, max);
  }

  facts(code: string): CodeFacts {
    return this.get(code);
  }

  /** The code's Adler-32 (`a` + 8 hex), computed once per code (firmware without crc32). */
  adler(f: CodeFacts): string {
    return (f.adler ??= `a${hex8(adler32(f.body.bytes))}`);
  }
}

/**
 * Packed requests: the code's raw deflate stream with a window of 2^PACK_WBITS bytes (what the
 * board allocates to inflate it: extmod/moddeflate.c, DeflateIO's wbits), sent as base64 (a
 * bytes literal of printable ASCII, escaped nowhere). Board programs are Python text: packed,
 * one is half its size or less, and every 128 bytes not sent is a round trip of the raw-paste
 * window saved (on a UART, 128 bytes of its time too).
 */
export const PACK_WBITS = 10;
/** A request goes packed only when that saves at least this many bytes (one raw-paste window). */
const PACK_MIN_GAIN = 128;

/**
 * The packed form of a request's code (PACK_WBITS), as CodeFacts of the bytes sent, or null when
 * it would not save PACK_MIN_GAIN bytes (short code, or code that does not compress).
 */
function packCode(plain: CodeFacts): CodeFacts | null {
  const b64 = packBytes(plain.body.bytes);
  // The literal's `b''` and the parameter `,"z":10` besides the base64.
  if (b64.length + 3 + 7 > plain.body.literal.length - PACK_MIN_GAIN) return null;
  return { body: new PyBytes(b64), crc: `c${hex8(crc32(b64))}` };
}

/** `b`'s raw deflate stream (window 2^PACK_WBITS) in base64: what a packed program carries. */
function packBytes(b: Uint8Array): Buffer {
  return Buffer.from(deflateRawSync(b, { level: 9, windowBits: PACK_WBITS, memLevel: 9 }).toString('base64'), 'latin1');
}

/**
 * A sent program as a person (or a test) reads it: its packed parts (`q` where the parameters
 * have `z`, `w` where they have `y`) shown inflated, as the bytes literal they stand for.
 */
export function unpackProgram(program: string): string {
  const params = /^_P = __import__\('json'\)\.loads\(b'(\{[^']*\})'\)/m.exec(program)?.[1] ?? '';
  return program.replace(/^_P\['([qw])'\] = b'([A-Za-z0-9+/=]*)'$/gm, (line, k: string, b64: string) =>
    params.includes(k === 'q' ? '"z":' : '"y":') ? `_P['${k}'] = ${pyBytesLiteral(inflateRawSync(Buffer.from(b64, 'base64'), { windowBits: PACK_WBITS }))}` : line);
}

/** The packed form of each code text (packCode), null ones kept too. */
class PackedCodeCache extends TextCache<CodeFacts | null> {
  constructor(plain: SealedCodeCache, max = 64) {
    super((code) => packCode(plain.facts(code)), max);
  }
}

/** The caches behind sealRequest (pure functions' results: what they hold changes no answer). */
const codeCache = new SealedCodeCache();
const packedCache = new PackedCodeCache(codeCache);

/**
 * The sealed wrapper as one connection knows it: its programs (compacted once), the hash the
 * board keeps beside it, and whether it is believed defined on the board. The device owning it
 * calls `forget()` whenever the board may have lost its globals; the board's `W` frame says so
 * too (runSealed then defines it again).
 */
export class SealedWrapper {
  /** Its crc32 (`c` + 8 hex): the hash kept beside it on the board, and checked by sealed_call.py. */
  readonly hash: string;
  /** Its Adler-32 (`a` + 8 hex), for firmware without `binascii.crc32`. */
  readonly adler: string;
  /** sealed_define.py, sealed_call.py and sealed_adler.py, compacted. */
  readonly define: string;
  readonly call: string;
  readonly adlerSum: string;
  /** The wrapper's source as defined on the board (sealed.py, compacted), as sent: its UTF-8 in one bytes literal, escaped once per process. */
  readonly sent: PyBytes;
  /** The same packed (packCode's form), sent to a board that inflates, with its checksums. */
  readonly packed: { sent: PyBytes; crc: string; adler: string };
  /**
   * The checksum the board computes (`c` crc32, `a` Adler-32), once a frame of it said so (until
   * then requests carry both kinds). A firmware's, so it outlives resets (`forget`).
   */
  sum?: 'c' | 'a';
  /**
   * A definition is sent with sealed_adler.py (the checksum of firmware without crc32): on a
   * board known to use Adler-32, or once one sent without it was not taken (the board said W).
   * Most firmware has crc32, so the first is sent without.
   */
  get withAdler(): boolean {
    return this.sum === 'a' || (this.sum === undefined && this.adlerTried);
  }
  /** A definition sent without sealed_adler.py was not taken on this connection. */
  adlerTried = false;
  /**
   * The board inflates packed requests (its identity has `deflate.DeflateIO`): the firmware's,
   * so it outlives resets. Until the identity says so, every request goes as it is.
   */
  inflate = false;

  /**
   * `present`: whether the wrapper is on the board: false for one just booted, true once a frame
   * showed it, null while not known (a board hil did not just boot: another hil may have
   * left it there, or the board was reset since).
   */
  constructor(public present: boolean | null = false) {
    const p = wrapperPrograms();
    this.sent = p.sent;
    this.packed = p.packed;
    this.hash = p.hash;
    this.adler = p.adler;
    this.define = p.define;
    this.call = p.call;
    this.adlerSum = p.adlerSum;
  }

  /**
   * Whether a request whose code is sent in `codeLength` characters defines the wrapper: always
   * when it is not on the board; while that is not known, when the code is longer than the
   * definition, so a wrong guess costs at most the shorter of the two again (a code sent again
   * after the board's W, or a definition the board did not need).
   */
  defines(codeLength: number): boolean {
    if (this.present !== null) return !this.present;
    return codeLength > this.source.literal.length + this.define.length + (this.withAdler ? this.adlerSum.length : 0);
  }

  /** The wrapper's source as a definition carries it: packed to a board that inflates. */
  get source(): PyBytes {
    return this.inflate ? this.packed.sent : this.sent;
  }

  /** The board may have lost its globals (reset): the next request defines the wrapper again. */
  forget(): void {
    this.present = false;
  }

  /** Random bytes for nonces, drawn 32 sends at a time (one call into the CSPRNG, not one per send). */
  private pool = Buffer.alloc(0);

  /** A fresh random nonce (16 hex digits) for one send. */
  nonce(): string {
    if (this.pool.length < 8) this.pool = randomBytes(8 * 32);
    const n = this.pool.subarray(0, 8).toString('hex');
    this.pool = this.pool.subarray(8);
    return n;
  }

  /** The checksums of the kind(s) a request or definition carries: the board's alone once known. */
  sums(crc: string, adler: string): string[] {
    return this.sum === 'c' ? [crc] : this.sum === 'a' ? [adler] : [crc, adler];
  }
}

export interface SealedRequest {
  program: string;
  /** The request's crc32 as the board writes it (`c` + 8 hex), the same for every send of the code. */
  id: string;
  /** The request's Adler-32 (`a` + 8 hex), for firmware without `binascii.crc32` (absent once the board is known to have it). */
  adler?: string;
  /** The checksums the board was told to accept (the request's, of the kinds sent): only these prove it ran the request. */
  sums: string[];
  /** This send's nonce: only its answer frame carries it. */
  nonce: string;
  /** The program defines the wrapper before running the request through it. */
  defines: boolean;
  /** It defines it with sealed_adler.py. */
  adlerSent: boolean;
  /** The code goes packed (PACK_WBITS): `id` and `sums` are then of the packed bytes. */
  packed: boolean;
}

/**
 * The program sent for `code` (a fresh nonce each call): through the wrapper already on the
 * board when `wrapper` says it is there, else defining it first (always, without `wrapper`;
 * while it is not known, as SealedWrapper.defines decides).
 */
export function sealRequest(code: string, nonce?: string, wrapper?: SealedWrapper, phase?: string): SealedRequest {
  const w = wrapper ?? new SealedWrapper();
  const packed = w.inflate ? packedCache.get(code) : null;
  // The checksums are of the bytes sent: packed, the board checks them before inflating.
  const f = packed ?? codeCache.facts(code);
  const id = f.crc;
  // The Adler-32 only while the board may use it (a crc32 board, the usual, never needs it).
  const adler = w.sum === 'c' ? undefined : codeCache.adler(f);
  const defines = w.defines(f.body.literal.length);
  const sums = adler === undefined ? [id] : w.sums(id, adler);
  const n = nonce ?? w.nonce();
  // A definition's checksums are of the wrapper's source as sent (packed: `y`, inflated after the check).
  const def = defines ? (w.inflate ? { s: w.sums(w.packed.crc, w.packed.adler), y: PACK_WBITS } : { s: w.sums(w.hash, w.adler) }) : {};
  // Packed, the code cannot be read on the wire: its phase (`p`) says what it is, for a person
  // reading the transcript and a fault placed by text (harness/fault).
  const params = { n, c: sums, h: w.hash, ...(packed ? { z: PACK_WBITS, ...(phase ? { p: phase } : {}) } : {}), ...def };
  const adlerSent = defines && w.withAdler;
  const program = paramsLine(params, defines ? { q: f.body, w: w.source } : { q: f.body }) + (defines ? (w.withAdler ? w.adlerSum : '') + w.define : '') + w.call;
  return { program, id, ...(adler === undefined ? {} : { adler }), sums, nonce: n, defines, adlerSent, packed: packed !== null };
}

export interface SealedAnswer<T> {
  value: T;
  /** What the board printed before the answer frame (output of code under test). */
  printed: string;
  /** The board's stderr (a traceback when the code raised after answering). */
  stderr: string;
  /** The answer was asked for again after the first arrived damaged: `printed` is lost (empty). */
  outputLost?: true;
}

export type AnswerParse<T> =
  /** `raised`: the code raised after answering (its traceback is on stderr). */
  | { kind: 'answer'; answer: SealedAnswer<T>; raised: boolean; sum: 'c' | 'a' }
  /** The board proved the request arrived damaged (or not with a checksum of its kind): nothing of it ran. */
  | { kind: 'damaged-request'; sum: 'c' | 'a' }
  /** The code ran and ended (or raised) without calling `_hil_answer`. */
  | { kind: 'no-answer'; printed: string; stderr: string; raised: boolean; sum: 'c' | 'a' }
  /** The board holds no wrapper of this hil (or, after a send defining it, it arrived damaged): nothing ran. */
  | { kind: 'no-wrapper' }
  /** No intact frame of this send: the code may or may not have run. */
  | { kind: 'damaged-answer'; why: string };

const FRAME = /^@@hil ([0-9a-f]{16}) ([DVXNvxn]) ([ac][0-9a-f]{8}) (\d{1,9}) ([ac][0-9a-f]{8}) (.*)$/s;

/**
 * Reads the answer of one send of `req` out of a program's output: the last line, and only if it
 * is that send's frame, whole. Nothing before it is looked at (it is the code under test's).
 */
export function parseAnswer<T>(r: ExecResult, req: Pick<SealedRequest, 'sums' | 'nonce'>): AnswerParse<T> {
  const out = r.stdout;
  const end = out.endsWith('\r\n') ? out.length - 2 : out.endsWith('\n') ? out.length - 1 : -1;
  const onBoard = r.stderr.trim() ? `; the board said: ${r.stderr.trim().split(/\r?\n/).slice(-1)[0]!.slice(0, 120)}` : '';
  const noFrame = (): AnswerParse<T> => ({ kind: 'damaged-answer', why: `no answer frame at the end of the output (${JSON.stringify(out.slice(-60))})${onBoard}` });
  if (end < 0) return noFrame();
  const start = out.lastIndexOf('\n', end - 1) + 1;
  const last = out.slice(start, end);
  // Only sealed_call.py prints it, having run nothing (so nothing raised either).
  if (last === `@@hil ${req.nonce} W` && !r.stderr.trim()) return { kind: 'no-wrapper' };
  const m = FRAME.exec(last);
  if (!m) return noFrame();
  const [, nonce, kind, reqSum, len, sum, payload] = m as unknown as [string, string, string, string, string, string, string];
  if (nonce !== req.nonce) return { kind: 'damaged-answer', why: `answer frame of another send (nonce ${nonce.slice(0, 8)}…)` };
  if (payload.length !== Number(len)) return { kind: 'damaged-answer', why: `answer frame length ${len}, payload ${payload.length}` };
  // Only the kind the board used is computed (Adler-32 is for firmware without crc32).
  if (sum !== sumLike(sum, Buffer.from(`${nonce} ${kind} ${reqSum} ${len} ${payload}`, 'latin1'))) return { kind: 'damaged-answer', why: 'answer checksum does not match' };
  // The board's checksum kind: that of the frame's own checksum, just checked.
  const board = sum[0] as 'c' | 'a';
  // Only a checksum the board was sent proves it ran the request (it runs nothing else).
  const intact = req.sums.includes(reqSum);
  if (kind === 'D') return intact ? { kind: 'damaged-answer', why: 'damaged-request frame for an intact request' } : { kind: 'damaged-request', sum: board };
  // The wrapper ran code whose checksum is not the request's (the wrapper itself was damaged).
  if (!intact) return { kind: 'damaged-answer', why: `the board ran a request with checksum ${reqSum}, not ${req.sums.join(' or ')}` };
  const printed = out.slice(0, start).replace(/\r?\n$/, '');
  const raised = kind !== kind.toUpperCase();
  if (kind === 'N' || kind === 'n') return { kind: 'no-answer', printed, stderr: r.stderr, raised, sum: board };
  const json = kind === 'X' || kind === 'x' ? Buffer.from(payload, 'hex').toString('utf8') : payload;
  let value: T;
  try {
    value = JSON.parse(json) as T;
  } catch {
    return { kind: 'damaged-answer', why: 'answer is not JSON' };
  }
  return { kind: 'answer', answer: { value, printed, stderr: r.stderr }, raised, sum: board };
}

export interface QueryOptions {
  /** Names the step in errors (`listing`, `probe`, `hash`). */
  phase: string;
  timeoutMs?: number;
  /**
   * Safe to run twice (reads only, and no code under test that could have side effects): after a
   * link fault or a damaged answer it is sent again (resend.ts). Otherwise only a request the
   * board proved it did not run is.
   */
  idempotent?: boolean;
  /**
   * A program that raises before answering: `infra` (default) is an InfraError naming the phase;
   * `device` is a DeviceExceptionError carrying the board's traceback (a board-side error).
   */
  crash?: 'infra' | 'device';
}

/**
 * What the sealed layer needs of a device: its name, one send of a program, and what its
 * connection knows of the wrapper on the board (without it, every request defines the wrapper).
 */
export type SealedTarget = Pick<Device, 'name'> & { execRaw(code: string, opts?: ExecOptions): Promise<ExecResult>; readonly sealedWrapper?: SealedWrapper };

export interface SealedRun<T> {
  /** Whether the code called `_hil_answer`. */
  answered: boolean;
  value?: T;
  printed: string;
  stderr: string;
  /** The answer was asked for again after the first arrived damaged: what the code printed is lost. */
  outputLost?: true;
}

/**
 * Runs `code` sealed once it arrived intact, and returns what it answered (if it did), printed
 * and raised. A damaged answer (or none) is an AnswerIntegrityError (exit 3); a request the board
 * proved damaged is sent again, as decided by resend.ts.
 */
export async function runSealed<T>(device: SealedTarget, code: string, opts: QueryOptions): Promise<SealedRun<T>> {
  // `timeoutMs` bounds the whole query, every send and every asking-again included: each send
  // gets what is left of it (at least MIN_SEND_MS, so a late resend is not doomed from its start).
  const deadlineAt = opts.timeoutMs === undefined ? undefined : performance.now() + opts.timeoutMs;
  const left = () => (deadlineAt === undefined ? undefined : Math.max(MIN_SEND_MS, Math.round(deadlineAt - performance.now())));
  // Without the device's, one for this query: what its sends show of the board holds for the next.
  const wrapper = device.sealedWrapper ?? new SealedWrapper();
  return sendWithResend(
    async () => {
      const req = sealRequest(code, undefined, wrapper, opts.phase);
      let p: AnswerParse<T>;
      let again = false;
      try {
        p = parseAnswer<T>(await device.execRaw(req.program, { timeoutMs: left() }), req);
      } catch (e) {
        // The link failed after the code went out: the board may hold the frame of a run that ended.
        if (!(e instanceof InfraError) || provenNotRun(e)) throw e;
        if (deadlineAt !== undefined && performance.now() >= deadlineAt) throw e;
        const a = await askAgain<T>(device, req, left, deadlineAt);
        if (!a) throw e;
        [p, again] = [a, true];
      }
      if (p.kind === 'damaged-answer') {
        const a = await askAgain<T>(device, req, left, deadlineAt);
        if (a) [p, again] = [a, true];
      }
      learn(wrapper, req, p);
      if (p.kind === 'no-wrapper') {
        if (req.defines) throw new NotRunError(`${device.name}: the sealed wrapper for the ${opts.phase} program kept arriving damaged (checksum mismatch on the board): link fault`, opts.phase);
        throw new WrapperMissingError(`${device.name}: the board holds no sealed wrapper of this hil (${opts.phase}): nothing ran`, opts.phase);
      }
      if (p.kind === 'answer') return { answered: true, value: p.answer.value, printed: again ? '' : p.answer.printed, stderr: p.answer.stderr, ...(again ? { outputLost: true } : {}) };
      if (p.kind === 'no-answer') return { answered: false, printed: again ? '' : p.printed, stderr: p.stderr, ...(again ? { outputLost: true } : {}) };
      if (p.kind === 'damaged-request') throw new NotRunError(`${device.name}: the ${opts.phase} program kept arriving damaged (checksum mismatch on the board): link fault`, opts.phase);
      throw new AnswerIntegrityError(`${device.name}: the ${opts.phase} answer arrived damaged (${p.why}): link fault`, opts.phase);
    },
    { repeatable: opts.idempotent ?? false, backoffMs: 100, deadlineAt },
  );
}

/**
 * What a send's answer tells of the board: whatever frame the wrapper printed proves it is there
 * now, and the checksum kind the board computes; the board's W that it is not (and, after a
 * definition that carried one checksum kind only, that the kind may not be the board's).
 */
function learn(wrapper: SealedWrapper, req: SealedRequest, p: AnswerParse<unknown>): void {
  if (p.kind === 'no-wrapper') {
    wrapper.forget();
    // A definition not taken: damaged on the way, or sent for a checksum the board lacks.
    if (req.defines) {
      wrapper.sum = undefined;
      if (!req.adlerSent) wrapper.adlerTried = true;
    }
  } else if (p.kind !== 'damaged-answer') {
    wrapper.present = true;
    wrapper.sum = p.sum;
  }
}

/** The least time a send of a sealed query is given, however little of its deadline is left. */
const MIN_SEND_MS = 1000;

/**
 * Asks the board for the frame it kept of send `req` (sealed_again.py: it only reads, so it is
 * repeatable) when that send's answer did not arrive whole. Returns the frame when the code ended
 * without raising (the board's traceback would be lost), or the board's damaged-request proof;
 * undefined otherwise, and the caller keeps its own error. The code is never run again here.
 */
async function askAgain<T>(device: SealedTarget, req: SealedRequest, left: () => number | undefined, deadlineAt?: number): Promise<AnswerParse<T> | undefined> {
  try {
    const p = await sendWithResend(
      async () => {
        let r: ExecResult;
        try {
          r = await device.execRaw(compactBoardProgram('device/sealed_again', { n: req.nonce }), { timeoutMs: left() });
        } catch (e) {
          if (provenNotRun(e)) return undefined; // the link did not come back: keep the first error
          throw e;
        }
        if (!r.stdout.trim() && !r.stderr.trim()) return undefined; // no frame of this send on the board
        const a = parseAnswer<T>(r, req);
        if (a.kind === 'damaged-answer') throw new AnswerIntegrityError(`${device.name}: ${a.why}`, 'answer-again');
        return a.kind === 'no-wrapper' ? undefined : a;
      },
      { repeatable: true, maxSends: 2, backoffMs: 100, deadlineAt },
    );
    if (!p || ((p.kind === 'answer' || p.kind === 'no-answer') && p.raised)) return undefined;
    return p;
  } catch {
    return undefined;
  }
}

/**
 * Runs `code` (which must call `_hil_answer(value)` once) sealed, and returns the checked value.
 * A program that raises before answering throws InfraError with the board's last stderr line
 * (or DeviceExceptionError with `crash: 'device'`); one that ends without answering, InfraError.
 */
export async function querySealed<T>(device: SealedTarget, code: string, opts: QueryOptions): Promise<SealedAnswer<T>> {
  const r = await runSealed<T>(device, code, opts);
  if (r.answered) return { value: r.value as T, printed: r.printed, stderr: r.stderr, ...(r.outputLost ? { outputLost: true as const } : {}) };
  if (opts.crash === 'device' && r.stderr.trim()) throw new DeviceExceptionError(device.name, r.stderr);
  const why = r.stderr.trim() ? r.stderr.trim().split(/\r?\n/).slice(-1)[0]! : `no answer (${JSON.stringify(r.printed.slice(-120))})`;
  throw new InfraError(`${device.name}: the ${opts.phase} program did not answer: ${why}`, opts.phase);
}

/**
 * Seals a program that talks to the host while it runs (the binary channel): the same wrapper and
 * frame, checked once the program's output has ended. `check` returns 'ran' when the frame says
 * the code ran, else the error to throw (NotRunError on the board's proof, AnswerIntegrityError).
 */
export function sealStream(deviceName: string, phase: string, wrapper?: SealedWrapper): (code: string) => { program: string; check(stdout: string, stderr: string): 'ran' | Error } {
  return (code) => {
    // Through the wrapper the board holds when `wrapper` says so (a sealed setup just ran), else defining it.
    const req = sealRequest(code, undefined, wrapper, phase);
    return {
      program: req.program,
      check: (stdout, stderr) => {
        const p = parseAnswer({ stdout, stderr }, req);
        if (wrapper) learn(wrapper, req, p);
        if (p.kind === 'answer' || p.kind === 'no-answer') return 'ran';
        if (p.kind === 'no-wrapper' && !req.defines) {
          return new WrapperMissingError(`${deviceName}: the board holds no sealed wrapper of this hil (${phase}): nothing ran`, phase);
        }
        // A program that defines the wrapper itself: no wrapper after it means the definition arrived damaged.
        if (p.kind === 'damaged-request' || p.kind === 'no-wrapper') return new NotRunError(`${deviceName}: the ${phase} program arrived damaged (checksum mismatch on the board): link fault`, phase);
        return new AnswerIntegrityError(`${deviceName}: the ${phase} program's end arrived damaged (${p.why}): link fault`, phase);
      },
    };
  };
}
