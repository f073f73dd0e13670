/**
 * Every example that targets the simulated board runs as written (issue 12): the commands in the
 * README's `sh` blocks that use `--device sim` / `sim:PROFILE` or no device at all (`hil run`
 * without --device/--bench starts a simulated board), and the `hil <cmd> --help` examples that
 * name `sim`. Each is run as a user runs it (bin/hil.js; build first) and must end with the exit
 * code its comment gives (`# exit N`), else 0. `hil sim` (which runs until stopped) is followed as
 * its help describes: start it, then `hil exec` on the connection it printed.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../fault/spawnHil.js';

const root = repoRoot();

/** Shell words of one command line (single and double quotes, backslash in double quotes); a `#` outside quotes starts a comment. */
export function shellWords(line: string): { words: string[]; comment: string } {
  const words: string[] = [];
  let cur: string | null = null;
  let i = 0;
  for (; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '#' && cur === null) break;
    if (/\s/.test(ch)) {
      if (cur !== null) words.push(cur);
      cur = null;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      cur = (cur ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (ch === '"') {
      let s = '';
      for (i++; i < line.length && line[i] !== '"'; i++) s += line[i] === '\\' && /["\\$`]/.test(line[i + 1] ?? '') ? line[++i] : line[i];
      cur = (cur ?? '') + s;
    } else cur = (cur ?? '') + ch;
  }
  if (cur !== null) words.push(cur);
  return { words, comment: line.slice(i + 1).trim() };
}

function targetsSim(words: string[]): boolean {
  if (words[0] !== 'hil' || words[1] === 'sim') return false;
  const dev = words.findIndex((w) => w === '--device' || w === '-d');
  if (dev >= 0) return /^sim(:|$)/.test(words[dev + 1] ?? '');
  return words[1] === 'run' && !words.includes('--bench') && !words.includes('-b');
}

export function readmeSimExamples(readme: string): { line: string; args: string[]; exit: number }[] {
  const out: { line: string; args: string[]; exit: number }[] = [];
  for (const block of readme.matchAll(/^```sh\n([\s\S]*?)^```/gm)) {
    for (const raw of block[1]!.split('\n')) {
      const line = raw.replace(/^npx /, '').trim();
      const { words, comment } = shellWords(line);
      if (!targetsSim(words) || words.some((w) => /^\[.*\]$|…|\.\.\./.test(w))) continue;
      const exit = /exit (\d)/.exec(comment);
      out.push({ line, args: words.slice(1), exit: exit ? Number(exit[1]) : 0 });
    }
  }
  return out;
}

function helpExamples(cmd: string[]): string[] {
  const r = spawnSync(process.execPath, ['bin/hil.js', ...cmd, '--help'], { cwd: root, encoding: 'utf8' });
  const ex = r.stdout.split(/^Examples:\n/m)[1] ?? '';
  return ex.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('hil ')).map((l) => l.split(/\s{2,}/)[0]!);
}

function hil(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, ['bin/hil.js', ...args], { cwd: root, encoding: 'utf8', timeout: 240_000, env: { ...env, NO_COLOR: '1' } });
}

const readmeExamples = readmeSimExamples(readFileSync(join(root, 'README.md'), 'utf8'));
/** Where the examples' `/tmp/...` outputs go instead (the README writes them to /tmp; a test leaves nothing there). */
const T = mkdtempSync(join(tmpdir(), 'hil-examples-'));
afterAll(() => rmSync(T, { recursive: true, force: true }));
const inT = (args: string[]) => args.map((a) => a.replace(/^\/tmp\//, `${T}/`));

describe('README examples that target the simulated board run as written', () => {
  it('finds them (the exec example and the hil run examples)', () => {
    expect(readmeExamples.map((e) => e.args[0])).toEqual(expect.arrayContaining(['exec', 'run']));
  });
  it.each(readmeExamples)('$line', ({ args, exit }) => {
    const r = hil(inT(args));
    expect({ status: r.status, stderr: r.status === exit ? '' : r.stderr }).toEqual({ status: exit, stderr: '' });
  }, 300_000);
});

describe('hil <cmd> --help examples', () => {
  const execEx = helpExamples(['exec']);
  it('hil exec --help: each example targets sim and runs', () => {
    expect(execEx.length).toBeGreaterThan(0);
    for (const line of execEx) {
      const { words } = shellWords(line);
      const r = hil(words.slice(1));
      expect({ line, status: r.status, stderr: r.stderr }).toEqual({ line, status: 0, stderr: '' });
    }
  }, 120_000);

  it('hil sim --help: start the board, then the exec it describes on the connection it printed', async () => {
    const [ex] = helpExamples(['sim']);
    expect(ex).toBe('hil sim --profile openmv-h7');
    const help = spawnSync(process.execPath, ['bin/hil.js', 'sim', '--help'], { cwd: root, encoding: 'utf8' }).stdout;
    const then = /then: (hil exec --device \S+ "[^"]*")/.exec(help.replace(/\s+/g, ' '))?.[1];
    expect(then).toBeDefined();
    const sim = spawn(process.execPath, ['bin/hil.js', ...shellWords(ex!).words.slice(1)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const conn = await new Promise<string>((res, rej) => {
        let out = '';
        sim.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) res(out.split('\n')[0]!.trim());
        });
        sim.on('exit', (c) => rej(new Error(`hil sim exited ${c}`)));
      });
      const { words } = shellWords(then!.replace(/\/tmp\/hil-sim-abc123\/tty/g, conn));
      const r = hil(words.slice(1));
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '1\n', stderr: expect.stringMatching(/^(hil: [^\n]*\n)*$/) });
    } finally {
      sim.kill('SIGTERM');
      await new Promise((res) => sim.once('close', res));
    }
  }, 120_000);
});

describe('without socat', () => {
  it('--device sim reaches the simulated board over TCP (nothing to install)', () => {
    const bin = mkdtempSync(join(tmpdir(), 'hil-nosocat-'));
    try {
      mkdirSync(join(bin, 'bin'));
      symlinkSync(process.execPath, join(bin, 'bin', 'node'));
      const r = hil(['exec', '--device', 'sim', 'print(6 * 7)'], { ...process.env, PATH: join(bin, 'bin') });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '42\n', stderr: '' });
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  }, 120_000);
});
