import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';
import { boardProgram, boardSource, listBoardPrograms, paramsLine } from './program.js';
import { wasmMpyCross } from '../romfs/mpyCross.js';
import { MpyCompileError } from '../romfs/errors.js';

describe('board programs (harness/board/*.py)', () => {
  const names = listBoardPrograms();

  it('are found in the checkout', () => {
    expect(names).toContain('echo_params');
  });

  it.each(names)('%s compiles with mpy-cross', async (name) => {
    const mpy = await wasmMpyCross().compile(Buffer.from(boardSource(name)), `${name}.py`, `harness/board/${name}.py`);
    expect(mpy[0]).toBe(0x4d); // 'M': an .mpy header
  });

  it('mpy-cross in this test does reject a syntax error (the test above can fail)', async () => {
    await expect(wasmMpyCross().compile(Buffer.from('def f(:\n'), 'x.py', 'x.py')).rejects.toBeInstanceOf(MpyCompileError);
  });

  it('parameters reach the board intact, whatever they hold', async () => {
    const out: string[] = [];
    const mp = await loadMicroPython({ stdout: (s: string | Uint8Array) => { out.push(String(s)); }, linebuffer: true });
    const params = { id: 0, name: "it's \"q\" \\ é 😀\n\x00", list: [1, 2.5, null, true], nested: { a: -1 } };
    mp.runPython(`${boardProgram('echo_params', params)}\nimport binascii\nprint('HEX=' + binascii.hexlify(_P['name'].encode()).decode())\nprint('REST=%r' % ([_P['id'], _P['list'], _P['nested']],))`);
    const text = out.join('\n');
    expect(text).toContain(`HEX=${Buffer.from(params.name, 'utf8').toString('hex')}`);
    expect(text).toContain("REST=[0, [1, 2.5, None, True], {'a': -1}]");
  });

  it('bytes parameters reach the board as exactly their bytes, whichever quote they hold more of; no parameters need no json', async () => {
    const out: string[] = [];
    const mp = await loadMicroPython({ stdout: (s: string | Uint8Array) => { out.push(String(s)); }, linebuffer: true });
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const code = Buffer.from("print('a')\n\tx = \"b\\\\\"\r\n");
    const quotes = Buffer.from('\'\'"');
    const line = paramsLine({ id: 7 }, { all, code, quotes, empty: new Uint8Array(0) });
    mp.runPython(`${line}import binascii\nprint('P=' + ' '.join(binascii.hexlify(_P[k]).decode() for k in ('all', 'code', 'quotes', 'empty')), _P['id'])`);
    expect(out.join('\n')).toContain(`P=${[all, code, quotes, new Uint8Array(0)].map((b) => Buffer.from(b).toString('hex')).join(' ')} 7`);
    expect(paramsLine({})).toBe('_P = {}\n');
    expect(() => paramsLine({}, { 'a b': all })).toThrow(/not an identifier/);
  });
});
