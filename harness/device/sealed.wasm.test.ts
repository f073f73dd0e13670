/**
 * Sealed queries run by real MicroPython (the WebAssembly port), through the WasmBoard test double
 * (test/doubles/wasmBoard.ts: execRaw only, no serial link), whose damage hooks alter what it
 * "sends" or "receives" the way a bad cable would, to prove each kind of damage is caught and
 * classified, and that nothing the code under test prints or raises can pass for an answer or
 * make hil send the code again.
 */
import { describe, expect, it, beforeAll } from '@jest/globals';
import { crc32 } from 'node:zlib';
import { WasmBoard } from '../../test/doubles/wasmBoard.js';
import { AnswerIntegrityError, SealedWrapper, adler32, parseAnswer, pyBytesLiteral, querySealed, runSealed, sealRequest } from './sealed.js';
import { NotRunError } from './resend.js';
import { DeviceExceptionError } from '../repl/errors.js';
import { InfraError } from '../errors.js';

let board: WasmBoard;
beforeAll(async () => {
  board = await WasmBoard.create();
});

/** Flip one bit of the character at `i`. */
const flip = (s: string, i: number) => s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) ^ 0x02) + s.slice(i + 1);

/** The requests sent (not the programs asking the board to repeat a kept answer). */
const requests = () => board.sent.filter((p) => !p.includes('_hil_again'));

/** Removes every sealed wrapper the board holds (kept as `_hil_w` + the hash of its source). */
const DROP_WRAPPERS = "for _k in [k for k in globals() if k.startswith('_hil_w')]:\n    del globals()[_k]";

/** The board's counter `_hil_t_n`, read unsealed. */
async function counter(): Promise<number> {
  const r = await board.execRaw('print(_hil_t_n)');
  return Number(r.stdout.trim());
}

describe('sealed queries on real MicroPython', () => {
  it('returns the value and keeps what the code printed before answering', async () => {
    board.reset();
    const r = await querySealed<{ a: number[]; s: string }>(board.asDevice(), "print('hello')\n_hil_answer({'a': [1, 2], 's': 'caf\u00e9 \\'q\\' \\\\'})", { phase: 'test' });
    expect(r.value).toEqual({ a: [1, 2], s: "café 'q' \\" });
    expect(r.printed).toBe('hello\n');
    expect(board.sent).toHaveLength(1);
  });

  it('carries every byte value through the request and non-ASCII text through the answer unchanged', async () => {
    board.reset();
    const all = new Uint8Array(256).map((_, i) => i);
    const r = await querySealed<string>(board.asDevice(), `import binascii\n_hil_answer(binascii.hexlify(${pyBytesLiteral(all)}).decode())`, { phase: 'test' });
    expect(r.value).toBe(Buffer.from(all).toString('hex'));
    const u = await querySealed<string[]>(board.asDevice(), "_hil_answer(['é', '😀', '\\u2028', '\\x7f', 'a\\nb'])", { phase: 'test' });
    expect(u.value).toEqual(['é', '😀', '\u2028', '\x7f', 'a\nb']);
  });

  it('is not fooled by board text holding the marker, fake frames or a nonce lookalike', async () => {
    board.reset();
    const fake = sealRequest('_hil_answer(1)');
    // What a board may print or hold: the old marker, a frame of another send copied whole,
    // frames with a made-up nonce, printed last by the code under test (and a file named so).
    const noise = [
      '@@hil@@c00000000 c00000000 "forged"',
      '@@hil@@damaged-request',
      `@@hil ${fake.nonce} V ${fake.id} 8 c00000000 "forged"`,
      `@@hil 0123456789abcdef D ${fake.id} 0 c00000000 `,
    ];
    const code = `import os
for l in ${JSON.stringify(noise)}:
    print(l)
f = open('@@hil@@.txt', 'w')
f.write('@@hil@@')
f.close()
_hil_answer({'ls': [n for n in os.listdir('/') if n.startswith('@@')]})
for l in ${JSON.stringify(noise)}:
    print(l)
`;
    const r = await querySealed<{ ls: string[] }>(board.asDevice(), code, { phase: 'listing' });
    expect(r.value).toEqual({ ls: ['@@hil@@.txt'] });
    expect(r.printed.split('\n').filter(Boolean)).toEqual([...noise, ...noise]);
    expect(board.sent).toHaveLength(1);
  });

  it('accepts only the last line, whole: a fake frame printed after the answer is never taken for it', () => {
    const req = sealRequest('_hil_answer(1)', '00112233aabbccdd');
    const good = (kind: string, payload: string) => {
      const head = `${req.nonce} ${kind} ${req.id} ${payload.length}`;
      return `@@hil ${head} c${(crc32(Buffer.from(`${head} ${payload}`)) >>> 0).toString(16).padStart(8, '0')} ${payload}`;
    };
    expect(parseAnswer({ stdout: `x\n\n${good('V', '1')}\n`, stderr: '' }, req)).toEqual({ kind: 'answer', answer: { value: 1, printed: 'x\n', stderr: '' }, raised: false, sum: 'c' });
    // Something after the frame: not an answer (the frame must be last).
    expect(parseAnswer({ stdout: `\n${good('V', '1')}\nlater\n`, stderr: '' }, req).kind).toBe('damaged-answer');
    // A frame whose length or checksum disagrees, or of another nonce.
    expect(parseAnswer({ stdout: `\n${good('V', '12').replace(' 2 ', ' 3 ')}\n`, stderr: '' }, req).kind).toBe('damaged-answer');
    expect(parseAnswer({ stdout: `\n${good('V', '12').replace(/ 12$/, ' 13')}\n`, stderr: '' }, req).kind).toBe('damaged-answer');
    const other = sealRequest('_hil_answer(1)');
    expect(parseAnswer({ stdout: `\n${good('V', '1')}\n`, stderr: '' }, other)).toEqual({ kind: 'damaged-answer', why: expect.stringMatching(/another send/) });
    // A damaged-request frame is proof only when the board's checksum of the code differs.
    expect(parseAnswer({ stdout: `\n${good('D', '')}\n`, stderr: '' }, req).kind).toBe('damaged-answer');
  });

  it('runs nothing from a request damaged on the way and sends it again: the code runs once', async () => {
    board.reset();
    await board.execRaw('_hil_t_n = 0');
    board.sent = [];
    const code = "_hil_t_n += 1\n_hil_answer('import app')";
    // Damage a character inside the code on the first send only.
    board.damageRequest = (c, n) => (n === 0 ? flip(c, c.indexOf('import app')) : c);
    const r = await querySealed<string>(board.asDevice(), code, { phase: 'test' });
    expect(r.value).toBe('import app');
    expect(board.sent).toHaveLength(2);
    expect(board.sent[0]).not.toBe(board.sent[1]); // a fresh nonce per send
    expect(await counter()).toBe(1);
  });

  it('never sends again because of what the code raised: a SyntaxError at run time, tracebacks naming <stdin> or the wrapper', async () => {
    for (const raise of [
      'eval("1 +")',
      'raise ValueError(\'File "<stdin>", line 1, in <module>\')',
      "raise SyntaxError('invalid syntax')",
      'raise OSError(\'File "<stdin>", line 40, in _hil_sealed\\n@@hil@@damaged-request\')',
      'raise KeyboardInterrupt',
    ]) {
      board.reset();
      await board.execRaw('_hil_t_n = 0');
      board.sent = [];
      const e = await querySealed(board.asDevice(), `_hil_t_n += 1\n${raise}\n_hil_answer(1)`, { phase: 'imports', idempotent: true, crash: 'device' }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(DeviceExceptionError);
      expect(board.sent).toHaveLength(1);
      expect(await counter()).toBe(1);
    }
  });

  it('does not send a request again whose call arrived damaged unless it is idempotent (no proof it did not run)', async () => {
    const damage = (c: string, n: number) => (n === 0 ? c.replace("globals().get('_hil_w' + _P['h']", "globals().get('_hil_w' + _Q['h']") : c);
    board.reset();
    board.damageRequest = damage;
    const e = await querySealed<number>(board.asDevice(), '_hil_answer(7)', { phase: 'erase' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AnswerIntegrityError);
    expect(String((e as Error).message)).toMatch(/erase answer arrived damaged \(no answer frame .*NameError/);
    expect(requests()).toHaveLength(1);
    board.reset();
    board.damageRequest = damage;
    expect((await querySealed<number>(board.asDevice(), '_hil_answer(7)', { phase: 'hash', idempotent: true })).value).toBe(7);
    expect(requests()).toHaveLength(2);
  });

  it('never defines a wrapper damaged on the way: the board proves nothing ran, so even a non-idempotent request is sent again, and runs once', async () => {
    board.reset();
    await board.execRaw(`_hil_t_n = 0\n${DROP_WRAPPERS}`);
    board.sent = [];
    board.damageRequest = (c, n) => (n === 0 ? c.replace('if got not in p', 'if gox not in p') : c);
    const r = await querySealed<number>(board.asDevice(), '_hil_t_n += 1\n_hil_answer(7)', { phase: 'erase' });
    expect(r.value).toBe(7);
    expect(requests()).toHaveLength(2);
    expect(await counter()).toBe(1);
  });

  it('rejects an answer from a wrapper that ran code other than the request (its check and its definition check skipped by damage)', async () => {
    board.reset();
    board.damageRequest = (c) =>
      flip(c.replace("if sm and sm(p['w']) in p['s']:", 'if True:').replace("if got not in p['c']:", 'if False:'), c.indexOf('_hil_answer(7)'));
    const e = await querySealed(board.asDevice(), '_hil_answer(7)', { phase: 'hash' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AnswerIntegrityError);
    expect(String((e as Error).message)).toMatch(/ran a request with checksum/);
  });

  it('gives up after three sends when every request arrives damaged (exit 3, phase kept)', async () => {
    board.reset();
    board.damageRequest = (c) => flip(c, c.indexOf('_hil_answer(7)'));
    const e = await querySealed(board.asDevice(), '_hil_answer(7)', { phase: 'listing' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotRunError);
    expect((e as InfraError).exitCode).toBe(3);
    expect((e as InfraError).phase).toBe('listing');
    expect(board.sent).toHaveLength(3);
  });

  it('catches an answer damaged on the way back and asks the board for its kept frame, never running the code again', async () => {
    const damageHash = (o: string, n: number) => (n === 0 ? flip(o, o.indexOf('"sha"') + 10) : o);
    board.reset();
    await board.execRaw('_hil_t_n = 0');
    board.sent = [];
    board.damageAnswer = damageHash;
    const code = "_hil_t_n += 1\nprint('lost')\n_hil_answer({'sha': '0123456789abcdef0123456789abcdef'})";
    const ok = await querySealed<{ sha: string }>(board.asDevice(), code, { phase: 'hash' });
    expect(ok).toMatchObject({ value: { sha: '0123456789abcdef0123456789abcdef' }, printed: '', outputLost: true });
    expect(requests()).toHaveLength(1);
    expect(board.sent).toHaveLength(2);
    expect(await counter()).toBe(1);
    // Every answer damaged (the kept frame too): an integrity error, the code still ran once.
    board.reset();
    await board.execRaw('_hil_t_n = 0');
    board.sent = [];
    board.damageAnswer = (o) => (o.includes('"sha"') ? flip(o, o.indexOf('"sha"') + 10) : o);
    const e = await querySealed(board.asDevice(), code, { phase: 'hash' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AnswerIntegrityError);
    expect(String((e as Error).message)).toMatch(/hash answer arrived damaged \(answer checksum does not match\)/);
    expect(requests()).toHaveLength(1);
    expect(await counter()).toBe(1);
    // Idempotent: after the kept frame failed too, the request itself is sent again.
    board.reset();
    board.damageAnswer = (o, n) => (n < 4 && o.includes('"sha"') ? flip(o, o.indexOf('"sha"') + 10) : o);
    const again = await querySealed<{ sha: string }>(board.asDevice(), "_hil_answer({'sha': '0123456789abcdef0123456789abcdef'})", { phase: 'hash', idempotent: true });
    expect(again.value.sha).toBe('0123456789abcdef0123456789abcdef');
    expect(requests()).toHaveLength(2);
  });

  it('does not take a kept frame of code that raised (its traceback would be lost)', async () => {
    board.reset();
    board.damageAnswer = (o, n) => (n === 0 ? o.slice(0, -5) : o);
    const e = await querySealed(board.asDevice(), "_hil_answer(1)\nraise ValueError('x')", { phase: 'probe' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AnswerIntegrityError);
    expect(requests()).toHaveLength(1);
  });

  it('treats a lost or cut answer frame as a damaged answer', async () => {
    board.reset();
    board.damageAnswer = (o, n) => (n === 0 ? o.replace('@@hil ', '\u0002DAhil ') : o);
    const r = await querySealed<number>(board.asDevice(), '_hil_answer(32)', { phase: 'erase', idempotent: true });
    expect(r.value).toBe(32);
    board.reset();
    board.damageAnswer = (o) => o.slice(0, 3);
    const e = await querySealed(board.asDevice(), '_hil_answer(32)', { phase: 'erase' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AnswerIntegrityError);
    expect(String((e as Error).message)).toMatch(/erase answer arrived damaged \(no answer frame/);
  });

  it('uses Adler-32 on firmware without binascii.crc32, its code sent only after the board showed it lacks crc32, and the host accepts it', async () => {
    board.reset();
    await board.execRaw(`import sys\nclass _NoCrc:\n    pass\nsys.modules['binascii'] = _NoCrc()\n${DROP_WRAPPERS}`);
    board.sent = [];
    const out: string[] = [];
    board.damageAnswer = (o) => (out.push(o), o);
    const w = new SealedWrapper(false);
    const on = { name: 'wasm-board', execRaw: (c: string) => board.execRaw(c), sealedWrapper: w };
    const r = await querySealed<string>(on, "_hil_answer('no crc32 here')", { phase: 'test' });
    expect(r.value).toBe('no crc32 here');
    // The first definition (crc32 assumed) is not taken: the board says so and ran nothing; the second carries Adler-32.
    expect(board.sent.map((p) => p.includes('def _hil_adler('))).toEqual([false, true]);
    expect(out[0]).toMatch(/^\n@@hil [0-9a-f]{16} W\n$/);
    const req = sealRequest("_hil_answer('no crc32 here')");
    expect(out[1]).toContain(` V ${req.adler} 15 a`);
    expect(req.adler).toBe(`a${adler32(Buffer.from("_hil_answer('no crc32 here')")).toString(16).padStart(8, '0')}`);
    expect(w.sum).toBe('a');
    // Known from then on, across a reset (the firmware stays): one send, the Adler-32 alone.
    await board.execRaw(DROP_WRAPPERS);
    w.forget();
    board.sent = [];
    const u = await querySealed<string>(on, "_hil_answer('é')", { phase: 'test' });
    expect(u.value).toBe('é');
    expect(board.sent).toHaveLength(1);
    expect(board.sent[0]).toContain(`"c":["${sealRequest("_hil_answer('é')").adler}"]`);
    expect(board.sent[0]).toContain('def _hil_adler(');
    await board.execRaw(`import sys\ndel sys.modules['binascii']\n${DROP_WRAPPERS}`);
  });

  it('reports a program that raises before answering: infra by default, the traceback for crash: device', async () => {
    board.reset();
    const infra = await querySealed(board.asDevice(), 'raise OSError(5)', { phase: 'probe' }).catch((x: unknown) => x);
    expect(infra).toBeInstanceOf(InfraError);
    expect(String((infra as Error).message)).toMatch(/the probe program did not answer: OSError: \[Errno 5\] EIO/);
    const dev = await querySealed(board.asDevice(), 'raise OSError(5)', { phase: 'probe', crash: 'device' }).catch((x: unknown) => x);
    expect(dev).toBeInstanceOf(DeviceExceptionError);
    expect((dev as DeviceExceptionError).excType).toBe('OSError');
    expect(board.sent).toHaveLength(2);
  });

  it('keeps an answer given before the code raised, with the traceback; runs code that does not answer', async () => {
    board.reset();
    const r = await querySealed<number>(board.asDevice(), "_hil_answer(3)\nraise ValueError('after')", { phase: 'test' });
    expect(r.value).toBe(3);
    expect(r.stderr).toMatch(/ValueError: after/);
    const s = await runSealed(board.asDevice(), "print('setup')", { phase: 'transfer-setup' });
    expect(s).toEqual({ answered: false, printed: 'setup\n', stderr: '' });
  });
});

describe('the sealed wrapper, defined once per connection', () => {
  const on = (w: SealedWrapper) => ({ name: 'wasm-board', execRaw: (c: string) => board.execRaw(c), sealedWrapper: w });
  const defines = (p: string) => p.includes('_hil_define(globals(), _P)');
  const runs = "f = open('runs', 'a')\nf.write('x')\nf.close()\n_hil_answer(len(open('runs').read()))";
  const fresh = async () => {
    board.reset();
    await board.execRaw(`import os\n${DROP_WRAPPERS}\ntry:\n    os.remove('runs')\nexcept OSError:\n    pass`);
    board.sent = [];
  };

  it('goes with the first query only; every later one is the short call (a tenth of the bytes)', async () => {
    await fresh();
    const w = new SealedWrapper(false);
    for (let i = 0; i < 3; i++) expect((await querySealed<number>(on(w), `_hil_answer(${i})`, { phase: 'test' })).value).toBe(i);
    expect(board.sent.map(defines)).toEqual([true, false, false]);
    expect(board.sent.slice(1).every((p) => !p.includes('def _hil_sealed') && p.length < 320)).toBe(true);
    expect(board.sent[0]!.length).toBeGreaterThan(1200);
    // Most firmware has crc32: the Adler-32 code is not sent, and once a frame showed crc32,
    // a request carries its crc32 alone.
    expect(board.sent.some((p) => p.includes('def _hil_adler('))).toBe(false);
    expect(w.sum).toBe('c');
    const last = sealRequest('_hil_answer(2)');
    expect(board.sent[2]).toContain(`"c":["${last.id}"]`);
    expect(board.sent[2]).not.toContain(last.adler);
  });

  it('is defined again when the board lost its globals (a soft reset) while the host believed it there: the request runs once', async () => {
    await fresh();
    const w = new SealedWrapper(false);
    await querySealed(on(w), '_hil_answer(0)', { phase: 'test' });
    await board.execRaw('globals().clear()');
    board.sent = [];
    const r = await querySealed<number>(on(w), runs, { phase: 'erase' });
    expect(r.value).toBe(1);
    expect(board.sent.map(defines)).toEqual([false, true]);
    expect(w.present).toBe(true);
  });

  it('a wrapper replaced by one of another hash is never run, even one forging a valid frame: defined again, the true answer', async () => {
    await fresh();
    const w = new SealedWrapper(false);
    await querySealed(on(w), '_hil_answer(0)', { phase: 'test' });
    // Prints a frame the host would accept for this send (right nonce, request checksum, frame checksum).
    await board.execRaw(`import binascii
def _hil_t_fake():
    p = globals().pop('_P')
    h = '%s V %s 3' % (p['n'], p['c'][0])
    print('\\n@@hil %s c%08x 999' % (h, binascii.crc32((h + ' 999').encode()) & 0xFFFFFFFF))
${DROP_WRAPPERS}
_hil_wc00000000 = _hil_t_fake`);
    board.sent = [];
    const r = await querySealed<number>(on(w), runs, { phase: 'erase' });
    expect(r.value).toBe(1);
    expect(board.sent.map(defines)).toEqual([false, true]);
    // Beside the true one, another hash's is never run either.
    const again = await querySealed<number>(on(w), runs, { phase: 'erase' });
    expect(again.value).toBe(2);
    expect(board.sent.map(defines)).toEqual([false, true, false]);
  });

  it('a definition damaged on every send: nothing runs, NotRunError after three sends with it', async () => {
    await fresh();
    const w = new SealedWrapper(false);
    board.damageRequest = (c) => c.replace('def _hil_sealed(sm)', 'def _hil_sealed(sn)');
    const e = await querySealed(on(w), runs, { phase: 'listing' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotRunError);
    expect(String((e as Error).message)).toMatch(/sealed wrapper for the listing program kept arriving damaged/);
    expect(board.sent.map(defines)).toEqual([true, true, true]);
    expect((await board.execRaw("import os\nprint('runs' in os.listdir())")).stdout.trim()).toBe('False');
  });
});

describe('packed requests (a board whose identity has deflate.DeflateIO)', () => {
  const on = (w: SealedWrapper) => ({ name: 'wasm-board', execRaw: (c: string) => board.execRaw(c), sealedWrapper: w });
  /** A request long enough to pack: a counter, then an answer built by many lines of Python. */
  const long = `_hil_t_n += 1\n${Array.from({ length: 40 }, (_, i) => `_hil_t_v${i} = 'value number ${i} of the packed request'`).join('\n')}\n_hil_answer([_hil_t_n, _hil_t_v39])`;
  const packing = () => {
    const w = new SealedWrapper(false);
    w.inflate = true;
    return w;
  };

  it('runs the code inflated on the board and answers, in well under half the bytes of the plain request', async () => {
    board.reset();
    await board.execRaw('_hil_t_n = 0');
    const w = packing();
    await querySealed(on(w), '_hil_answer(0)', { phase: 'test' }); // defines the wrapper
    board.sent = [];
    const r = await querySealed<[number, string]>(on(w), long, { phase: 'test' });
    expect(r.value).toEqual([1, 'value number 39 of the packed request']);
    expect(board.sent).toHaveLength(1);
    expect(board.sent[0]).not.toContain('value number');
    expect(board.sent[0]).toContain('"z":10');
    const plain = sealRequest(long, undefined, Object.assign(new SealedWrapper(true), { sum: w.sum }));
    expect(plain.packed).toBe(false);
    expect(board.sent[0]!.length).toBeLessThan(plain.program.length / 2);
  });

  it('catches damage to the packed bytes before inflating: nothing runs, sent again, runs once', async () => {
    board.reset();
    await board.execRaw('_hil_t_n = 0');
    const w = packing();
    await querySealed(on(w), '_hil_answer(0)', { phase: 'test' });
    board.sent = [];
    const req = sealRequest(long, undefined, w);
    const at = req.program.indexOf("_P['q'] = b'") + 40;
    board.damageRequest = (c, n) => (n === 0 ? flip(c, at) : c);
    const r = await querySealed<[number, string]>(on(w), long, { phase: 'test' });
    expect(r.value[0]).toBe(1);
    expect(board.sent).toHaveLength(2);
    expect(await counter()).toBe(1);
  });

  it('defines the wrapper from its packed source, checked before inflating: a damaged one is never defined', async () => {
    board.reset();
    await board.execRaw(`_hil_t_n = 0\n${DROP_WRAPPERS}`);
    board.sent = [];
    const w = packing();
    const plainDefinition = sealRequest('_hil_answer(1)', undefined, new SealedWrapper(false)).program.length;
    expect((await querySealed<number>(on(w), '_hil_answer(1)', { phase: 'test' })).value).toBe(1);
    expect(board.sent[0]).not.toContain('def _hil_sealed');
    expect(board.sent[0]).toContain('"y":10');
    expect(board.sent[0]!.length).toBeLessThan(plainDefinition - 200);
    // Damaged in its packed bytes on every first send: the board runs nothing, says W, and the
    // host defines it again; the request runs once.
    await board.execRaw(DROP_WRAPPERS);
    w.forget();
    board.sent = [];
    const at = sealRequest(long, undefined, w).program.indexOf("_P['w'] = b'") + 30;
    board.damageRequest = (c, n) => (n === 0 ? flip(c, at) : c);
    expect((await querySealed<[number, string]>(on(w), long, { phase: 'test' })).value[0]).toBe(1);
    expect(board.sent).toHaveLength(2);
    expect(await counter()).toBe(1);
  });

  it('never packs for a board not known to inflate, nor code too short to gain a window', () => {
    const w = new SealedWrapper(true);
    expect(sealRequest(long, undefined, w).packed).toBe(false);
    expect(sealRequest(long, undefined, w).program).toContain('value number 39');
    w.inflate = true;
    expect(sealRequest(long, undefined, w).packed).toBe(true);
    expect(sealRequest('_hil_answer(1)', undefined, w).packed).toBe(false);
    expect(sealRequest('_hil_answer(1)', undefined, w).program).not.toContain('"z"');
  });
});
