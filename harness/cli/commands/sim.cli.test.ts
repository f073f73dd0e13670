/**
 * `hil sim` as a user runs it (bin/hil.js, which runs dist/): the firmware personality's API
 * generation defaults to what the board ships (released) and `--firmware-api master` selects
 * upstream master's; a bad value is a usage error (exit 2).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RawLink } from '../../sim/rawLink.js';

const HIL = fileURLToPath(new URL('../../../bin/hil.js', import.meta.url));

function startHilSim(args: string[]): Promise<{ child: ChildProcess; connection: string; stderr: () => string }> {
  const child = spawn(process.execPath, [HIL, 'sim', '--link', 'tcp', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`hil sim printed no connection within 30 s: ${err}`)), 30000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(t);
      resolve({ child, connection: line.trim(), stderr: () => err });
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`hil sim exited with ${code}: ${err}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  child.kill('SIGTERM');
  return exited;
}

describe('hil sim --firmware-api', () => {
  it.each([
    [[] as string[], 'released', [-22, 4]],
    [['--firmware-api', 'master'], 'master', [4096, 4]],
  ])('%j: the %s API', async (extra, api, answers) => {
    const { child, connection, stderr } = await startHilSim(['--profile', 'openmv-h7-plus', '--partition-size', '65536', ...extra]);
    const link = await RawLink.tcp(connection);
    try {
      await link.enterRaw();
      expect(await link.json('import vfs\nprint(json.dumps([vfs.rom_ioctl(6, 0), vfs.rom_ioctl(3, 0, 0)]))')).toEqual(answers);
      expect(stderr()).toContain(`${api} rom_ioctl API`);
    } finally {
      await link.close();
      expect(await stop(child)).toBe(143); // SIGTERM ends any hil command with 128 + 15 (issue 12)
    }
  });

  it('refuses an API that does not exist (exit 2, naming the choices)', async () => {
    const child = spawn(process.execPath, [HIL, 'sim', '--firmware-api', 'v2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    expect(code).toBe(2);
    expect(err).toMatch(/firmware-api.*"released", "master"/s);
  });
});
