/**
 * What a person sees when things go wrong (issue 12), with bin/hil.js spawned as a user runs it
 * (build first): a program that outlives --timeout is named as such, a closed stdout ends quietly,
 * board control sequences shown on a terminal are made visible. The one-line bad-input errors are
 * in test/badinput.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { defaultHil, repoRoot, runHil } from '../fault/spawnHil.js';

const hil = (args: string[]) => runHil(defaultHil(), args, new AbortController().signal);
const root = repoRoot();
const noScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status !== 0;
if (noScript) console.log('harness/cli/errors.cli.test: terminal cases skipped: script(1) from util-linux is not installed');

describe('hil exec past its --timeout', () => {
  it('is "board program still running after N s" naming the device as given, not a link failure or a pty path', async () => {
    const r = await hil(['exec', '--device', 'sim', '--timeout', '5', 'import time\nwhile True:\n    time.sleep_ms(50)']);
    expect(r.code).toBe(3);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^hil: sim openmv-h7: board program still running after 5 s /);
    expect(lines[0]).not.toMatch(/no answer|\/tmp\/|\/dev\/pts/);
  }, 60_000);

  it('holds for a busy loop that never yields on the simulated board (it acknowledges the code before running it)', async () => {
    const r = await hil(['exec', '--device', 'sim', '--timeout', '3', 'while True: pass']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^hil: sim openmv-h7: board program still running after 3 s /);
  }, 60_000);
});

describe('a closed stdout (hil ... | head -1)', () => {
  it('ends with the command\'s own exit code and nothing on stderr (no EPIPE stack trace)', async () => {
    const c = spawn(process.execPath, ['bin/hil.js', 'image', 'inspect', 'test/fixtures/romfs/openmv-flat.img', '--json'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout.destroy(); // the reader is gone before hil writes
    let err = '';
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((res) => c.on('close', (n) => res(n)));
    expect({ code, err }).toEqual({ code: 0, err: '' });
  }, 60_000);
});

describe('board output on a terminal', () => {
  const run = noScript ? it.skip : it;
  run('has its control sequences made visible (\\x1b[2J, a bell, a lone \\r), not executed', () => {
    // script(1) gives hil a real terminal; what it writes there comes back on script's stdout.
    const cmd = `node bin/hil.js exec --device sim ${JSON.stringify("print('A\\x1b[2JB\\x07C\\rD')")}`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('A\\x1b[2JB\\x07C\\x0dD');
    expect(r.stdout).not.toContain('\x1b[2J');
    expect(r.stdout).not.toContain('\x07');
  }, 60_000);
  it('a pipe still gets the bytes the board sent', async () => {
    const r = await hil(['exec', '--device', 'sim', "print('A\\x1b[2JB')"]);
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: 'A\x1b[2JB\n' });
  }, 60_000);
});
