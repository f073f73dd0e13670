import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';
import { boardProgram, boardSource, listBoardPrograms } from './program.js';
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
});
