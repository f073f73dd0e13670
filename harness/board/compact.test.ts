import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';
import { compactPython } from './compact.js';
import { boardSource, listBoardPrograms } from './program.js';
import { wasmMpyCross } from '../romfs/mpyCross.js';

async function run(src: string): Promise<string> {
  const out: string[] = [];
  const mp = await loadMicroPython({ stdout: (s: string | Uint8Array) => { out.push(String(s)); }, linebuffer: true });
  mp.runPython(src);
  return out.join('\n');
}

const SAMPLE = `# a comment line
def f(x):
    # inside
    if x > 1:  # trailing comment
        s = 'a # not a comment'
        t = "it's \\"#\\""
        return [s, t,
                x]   # continuation lines keep their tokens
    else:
        y = (1 +
             2)
        return y \\
            + 1

        
print(f(2))
print(f(0))
class C:
    def m(self):
        return {'k': [1,
            2]}
print(C().m())
`;

describe('compactPython (board programs as sent)', () => {
  it('keeps what the program does, in fewer bytes', async () => {
    const c = compactPython(SAMPLE);
    expect(c.length).toBeLessThan(SAMPLE.length * 0.75);
    expect(c).not.toContain('trailing comment');
    expect(c).toContain("'a # not a comment'");
    expect(c).toContain('"it\'s \\"#\\""');
    expect(await run(c)).toBe(await run(SAMPLE));
    expect(await run(c)).toContain("['a # not a comment', 'it\\'s \"#\"', 2]");
  });

  it('indents one space per block level', () => {
    expect(compactPython('if a:\n    if b:\n        c()\n    d()\ne()\n')).toBe('if a:\n if b:\n  c()\n d()\ne()\n');
  });

  it('sends a source it cannot read safely as it is', () => {
    const doc = 'def f():\n    """doc\n    # not a comment\n    """\n    return 1\n';
    expect(compactPython(doc)).toBe(doc);
    const cont = "s = 'a\\\n# not a comment'\n";
    expect(compactPython(cont)).toBe(cont);
    const odd = 'if a:\n        b()\n    c()\n';
    expect(compactPython(odd)).toBe(odd);
  });

  it.each(listBoardPrograms())('board program %s compacts to source mpy-cross compiles', async (name) => {
    const c = compactPython(boardSource(name));
    const mpy = await wasmMpyCross().compile(Buffer.from(c), `${name}.py`, `harness/board/${name}.py`);
    expect(mpy[0]).toBe(0x4d);
  });
});
