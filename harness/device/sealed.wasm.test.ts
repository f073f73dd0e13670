/**
 * Sealed queries run by real MicroPython (the WebAssembly port), through the WasmBoard test double
 * (test/doubles/wasmBoard.ts: execRaw only, no serial link), whose damage hooks alter what it
 * "sends" or "receives" the way a bad cable would, to prove each kind of damage is caught and
 * classified.
 */
import { describe, expect, it, beforeAll } from '@jest/globals';
import { WasmBoard } from '../../test/doubles/wasmBoard.js';
import { AnswerIntegrityError, adler32, parseAnswer, pyBytesLiteral, querySealed, sealRequest } from './sealed.js';
import { DeviceExceptionError } from '../repl/errors.js';
import { InfraError } from '../errors.js';

let board: WasmBoard;
beforeAll(async () => {
  board = await WasmBoard.create();
});

/** Flip one bit of the character at `i`. */
const flip = (s: string, i: number) => s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ 0x02) + s.slice(i + 1);

describe('sealed queries on real MicroPython', () => {
  it('returns the value and keeps what the code printed before answering', async () => {
    board.reset();
    const r = await querySealed<{ a: number[]; s: string }>(board.asDevice(), "print('hello')\n_hil_answer({'a': [1, 2], 's': 'caf\u00e9 \\'q\\' \\\\'})", { phase: 'test' });
    expect(r.value).toEqual({ a: [1, 2], s: "café 'q' \\" });
    expect(r.printed).toBe('hello\n');
    expect(board.sent).toHaveLength(1);
  });

  it('carries every byte value through the request literal unchanged', async () => {
    board.reset();
    const all = new Uint8Array(256).map((_, i) => i);
    const r = await querySealed<string>(board.asDevice(), `import binascii\n_hil_answer(binascii.hexlify(${pyBytesLiteral(all)}).decode())`, { phase: 'test' });
    expect(r.value).toBe(Buffer.from(all).toString('hex'));
  });

  it('runs nothing from a request damaged on the way and sends it again', async () => {
    board.reset();
    await board.execRaw('_hil_ran = 0');
    board.sent = [];
    const code = "_hil_ran += 1\n_hil_answer('import app')";
    // Damage a character inside the literal (the code) on the first send only.
    board.damageRequest = (c, n) => (n === 0 ? flip(c, c.indexOf('import app')) : c);
    const r = await querySealed<string>(board.asDevice(), code, { phase: 'test' });
    expect(r.value).toBe('import app');
    expect(board.sent).toHaveLength(2);
    board.reset();
    expect((await querySealed<number>(board.asDevice(), '_hil_answer(_hil_ran)', { phase: 'test' })).value).toBe(1);
  });

  it('treats damage to the wrapper itself (a NameError in it) as a damaged request', async () => {
    board.reset();
    board.damageRequest = (c, n) => (n === 0 ? c.replace('if _hil_sum(_hil_q)', 'if _hil_sux(_hil_q)') : c);
    const r = await querySealed<number>(board.asDevice(), '_hil_answer(7)', { phase: 'test' });
    expect(r.value).toBe(7);
    expect(board.sent).toHaveLength(2);
  });

  it('treats an error raised compiling the program as received (no frame at all) as a damaged request', async () => {
    // A doubled run of bytes turned `\\n` into `\\N` in the literal: the lexer raised
    // NotImplementedError (seen in the run fault matrix).
    board.reset();
    board.damageRequest = (c, n) => (n === 0 ? c.replace("_hil_q = b'", "_hil_q = b'\\N") : c);
    const r = await querySealed<number>(board.asDevice(), '_hil_answer(9)', { phase: 'hash' });
    expect(r.value).toBe(9);
    expect(board.sent).toHaveLength(2);
  });

  it('gives up with an integrity error (exit 3) when every request arrives damaged', async () => {
    board.reset();
    board.damageRequest = (c) => flip(c, c.indexOf('_hil_answer(7)'));
    const e = await querySealed(board.asDevice(), '_hil_answer(7)', { phase: 'listing' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AnswerIntegrityError);
    expect((e as AnswerIntegrityError).exitCode).toBe(3);
    expect((e as AnswerIntegrityError).phase).toBe('listing');
    expect(board.sent).toHaveLength(3);
  });

  it('catches an answer damaged on the way back: asked again when idempotent, else an integrity error', async () => {
    const damageHash = (o: string, n: number) => (n === 0 ? flip(o, o.indexOf('"sha"') + 10) : o);
    board.reset();
    board.damageAnswer = damageHash;
    const code = "_hil_answer({'sha': '0123456789abcdef0123456789abcdef'})";
    const ok = await querySealed<{ sha: string }>(board.asDevice(), code, { phase: 'hash', idempotent: true });
    expect(ok.value.sha).toBe('0123456789abcdef0123456789abcdef');
    expect(board.sent).toHaveLength(2);
    board.reset();
    board.damageAnswer = damageHash;
    const e = await querySealed(board.asDevice(), code, { phase: 'hash' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AnswerIntegrityError);
    expect(String((e as Error).message)).toMatch(/hash answer arrived damaged \(answer checksum does not match\)/);
  });

  it('treats a run without exception whose answer line is missing as a damaged answer (marker lost on the link)', async () => {
    board.reset();
    board.damageAnswer = (o, n) => (n === 0 ? o.replace('@@hil@@', '\u0002DAhil@@') : o);
    const r = await querySealed<number>(board.asDevice(), '_hil_answer(32)', { phase: 'erase', idempotent: true });
    expect(r.value).toBe(32);
    board.reset();
    board.damageAnswer = (o) => o.slice(0, 3);
    const e = await querySealed(board.asDevice(), '_hil_answer(32)', { phase: 'erase' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AnswerIntegrityError);
    expect(String((e as Error).message)).toMatch(/erase answer arrived damaged \(answer line lost/);
  });

  it('rejects an answer to another request (a stale line replayed by the link)', () => {
    const a = sealRequest('_hil_answer(1)');
    const b = sealRequest('_hil_answer(2)');
    expect(a.id).not.toBe(b.id);
    const stale = `\n@@hil@@${a.id} c${'0'.repeat(8)} 1\n`;
    expect(parseAnswer({ stdout: stale, stderr: '' }, b.id)).toEqual({ kind: 'damaged-answer', why: expect.stringMatching(/another request/) });
  });

  it('uses Adler-32 on firmware without binascii.crc32, and the host accepts it', async () => {
    board.reset();
    await board.execRaw("import sys\nclass _NoCrc:\n    pass\nsys.modules['binascii'] = _NoCrc()");
    board.sent = [];
    const out: string[] = [];
    board.damageAnswer = (o) => (out.push(o), o);
    const r = await querySealed<string>(board.asDevice(), "_hil_answer('no crc32 here')", { phase: 'test' });
    expect(r.value).toBe('no crc32 here');
    const json = '"no crc32 here"';
    expect(out[0]).toContain(` a${adler32(Buffer.from(json)).toString(16).padStart(8, '0')} ${json}`);
    await board.execRaw("import sys\ndel sys.modules['binascii']");
  });

  it('reports a program that raises before answering: infra by default, the traceback for crash: device', async () => {
    board.reset();
    const infra = await querySealed(board.asDevice(), "raise OSError(5)", { phase: 'probe' }).catch((x: unknown) => x);
    expect(infra).toBeInstanceOf(InfraError);
    expect(String((infra as Error).message)).toMatch(/the probe program did not answer: OSError: \[Errno 5\] EIO/);
    const dev = await querySealed(board.asDevice(), "raise OSError(5)", { phase: 'probe', crash: 'device' }).catch((x: unknown) => x);
    expect(dev).toBeInstanceOf(DeviceExceptionError);
    expect((dev as DeviceExceptionError).excType).toBe('OSError');
    expect(board.sent).toHaveLength(2);
  });
});
