/**
 * `hil exec` as a user runs it (bin/hil.js spawned; build first) against the simulated board over
 * TCP, through hil's fault-injecting link: user code is sent once, whatever it raises, and a
 * link cut while it may run is exit 3 saying so.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSim, type SimBoard } from '../../sim/index.js';
import { FaultProxy } from '../../fault/faultProxy.js';
import { defaultHil, runHil } from '../../fault/spawnHil.js';

const hil = (args: string[]) => runHil(defaultHil(), args, new AbortController().signal);

describe('hil exec runs the code once', () => {
  let board: SimBoard;
  let proxy: FaultProxy;
  beforeAll(async () => {
    board = await startSim({ profile: 'openmv-h7', link: 'tcp' });
    proxy = await FaultProxy.start({ upstream: board.connection });
  });
  afterAll(async () => {
    await proxy?.close();
    await board?.stop();
  });
  const dev = () => ['--device', proxy.connection, '--profile', 'openmv-h7'];
  const count = async (mark: string) => (await hil(['exec', ...dev(), `import sys; print(sys.path.count('${mark}'))`])).stdout.trim();

  it('a SyntaxError raised at run time (eval("1 +")) is exit 1 with its traceback; the side effect happened once', async () => {
    const r = await hil(['exec', ...dev(), "import sys\nsys.path.append('/hil-e')\nprint('ran', sys.path.count('/hil-e'))\neval(\"1 +\")"]);
    expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({ code: 1, stdout: 'ran 1' });
    expect(r.stderr).toMatch(/SyntaxError/);
    expect(await count('/hil-e')).toBe('1');
  });

  it('a link cut after the code started is exit 3 naming that the program may have run; it ran once', async () => {
    proxy.addRule({ when: { kind: 'pattern', dir: 'toHost', pattern: 'hil-cut-ran' }, do: { kind: 'drop' } });
    const r = await hil(['exec', ...dev(), "import sys\nsys.path.append('/hil-c')\nprint('hil-cut-ran')"]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/the program may have run on the board; hil does not send it again/);
    expect(await count('/hil-c')).toBe('1');
  });
});
