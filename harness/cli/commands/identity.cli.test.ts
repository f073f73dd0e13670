/**
 * Auto-detection and profile mismatch through the real CLI (`node bin/hil.js`, built by
 * `npm run build`), against simulated boards that report what each real board reports:
 * - a connection string alone: hil picks the board's profile and says so (console and --json);
 * - a --profile the board contradicts: exit 2 for run, flash and exec, one line naming both, and
 *   nothing written (the sim's partition file hashes the same before and after).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { listProfiles } from '../../profile/profile.js';
import { startSim, type SimBoard } from '../../sim/index.js';
import { describeExpected } from '../../device/identify.js';

const root = resolve(new URL('../../..', import.meta.url).pathname);
const built = existsSync(join(root, 'dist/harness/cli/main.js'));
if (!built) console.log('identity CLI tests skipped: run `npm run build` first');
const maybe = built ? describe : describe.skip;

interface Ran { code: number | null; stdout: string; stderr: string }
function hil(...args: string[]): Promise<Ran> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [join(root, 'bin/hil.js'), ...args], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => res({ code, stdout, stderr }));
  });
}
const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
const tmp = mkdtempSync(join(tmpdir(), 'hil-identity-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

maybe('auto-detection: a connection string alone', () => {
  it.each(listProfiles())('%s: hil exec picks the profile of the board the sim simulates', async (name) => {
    const sim = await startSim({ profile: name });
    try {
      const r = await hil('exec', '--device', sim.connection, 'import sys; print(sys.platform)');
      expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({ code: 0, stdout: sim.profile.identify.platform });
      const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      expect(r.stderr).toMatch(new RegExp(`^hil: ${esc(sim.connection)}: profile ${name} \\(detected: the board reports ${esc(describeExpected(sim.profile))}(, \\d+ segments)?\\)\n$`));
    } finally {
      await sim.stop();
    }
  }, 60_000);

  it('hil sim --profile X prints its pty; hil flash --json on it alone names the detected profile and identity', async () => {
    const child = spawn(process.execPath, [join(root, 'bin/hil.js'), 'sim', '--profile', 'openmv-h7-plus'], { cwd: root });
    try {
      const pty = await new Promise<string>((res, rej) => {
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          out += d;
          if (out.includes('\n')) res(out.split('\n')[0]!);
        });
        child.on('close', (c) => rej(new Error(`hil sim exited ${c}`)));
      });
      const r = await hil('flash', 'images/demo', '--device', pty, '--json');
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout) as { profile: string; profileDetected: boolean; identity: { platform: string; machine: string; segments: { origin: number; size: number }[] } };
      expect({ profile: j.profile, detected: j.profileDetected, platform: j.identity.platform, machine: j.identity.machine, seg0: j.identity.segments[0] })
        .toEqual({ profile: 'openmv-h7-plus', detected: true, platform: 'OpenMV4P-H7', machine: 'OPENMV4P with STM32H743', seg0: { id: 0, access: 'memoryview', origin: 0x91800000, size: 0x800000 } });
      expect(r.stderr).toMatch(/^hil: \S+: profile openmv-h7-plus \(detected: the board reports platform OpenMV4P-H7, /);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
    }
  }, 90_000);
});

maybe('a --profile the board contradicts: exit 2 before any check or write', () => {
  // A Pure Thermal run as an H7 Plus: the same QSPI geometry (0x91800000, 8 MiB), so without the
  // identity check every command would go ahead and flash the wrong board's image.
  let sim: SimBoard;
  beforeAll(async () => {
    sim = await startSim({ profile: 'openmv-pt' });
  });
  afterAll(async () => sim?.stop());
  const said = (s: string) => `${s}: profile openmv-h7-plus does not fit this board: it reports platform OpenMVPureThermal, machine 'OPENMVPT with STM32H743', ROMFS0 0x91800000 8 MiB, but openmv-h7-plus expects platform OpenMV4P-H7, machine 'OPENMV4P with STM32H743', ROMFS0 0x91800000 8 MiB; the board matches openmv-pt; nothing was written`;

  it('hil exec runs nothing', async () => {
    const before = sha(sim.romfsFile);
    const r = await hil('exec', '--device', sim.connection, '--profile', 'openmv-h7-plus', "import vfs; vfs.rom_ioctl(3, 0, 4096); print('ran')");
    expect(r).toEqual({ code: 2, stdout: '', stderr: `hil: ${said(sim.connection)}\n` });
    expect(sha(sim.romfsFile)).toBe(before);
  }, 60_000);

  it('hil flash writes nothing', async () => {
    const before = sha(sim.romfsFile);
    const r = await hil('flash', 'images/demo', '--device', sim.connection, '--profile', 'openmv-h7-plus', '--force');
    expect(r).toEqual({ code: 2, stdout: '', stderr: `hil: ${said(sim.connection)}\n` });
    expect(sha(sim.romfsFile)).toBe(before);
  }, 60_000);

  it('hil run flashes nothing and runs no check', async () => {
    const before = sha(sim.romfsFile);
    const json = join(tmp, 'run.json');
    const r = await hil('run', 'scenarios/model-load', '--device', sim.connection, '--profile', 'openmv-h7-plus', '--flash', 'always', '--json', json);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n').filter((l) => l.includes('does not fit this board'))).toEqual([`  ERROR ${said(sim.connection)}`]);
    const d = (JSON.parse(readFileSync(json, 'utf8')) as { devices: { scenarios: unknown[]; error: { exitCode: number; message: string } }[] }).devices[0]!;
    expect({ scenarios: d.scenarios, exit: d.error.exitCode, message: d.error.message }).toEqual({ scenarios: [], exit: 2, message: said(sim.connection) });
    expect(sha(sim.romfsFile)).toBe(before);
  }, 90_000);

  it('on a bench, the contradicted board stops alone; the other board runs its checks', async () => {
    const other = await startSim({ profile: 'openmv-h7-plus' });
    try {
      const bench = join(tmp, 'bench.yaml');
      writeFileSync(bench, `devices:\n  pt-as-plus: { profile: openmv-h7-plus, connection: "${sim.connection}" }\n  plus: { profile: openmv-h7-plus, connection: "${other.connection}" }\n`);
      const before = sha(sim.romfsFile);
      const json = join(tmp, 'bench.json');
      const r = await hil('run', 'scenarios/model-load', '--bench', bench, '--json', json);
      const devices = (JSON.parse(readFileSync(json, 'utf8')) as { devices: { device: string; error?: { exitCode: number }; scenarios: { checks: { status: string }[] }[] }[] }).devices;
      expect(devices.map((d) => [d.device, d.error?.exitCode ?? 0, d.scenarios.flatMap((x) => x.checks).filter((c) => c.status === 'passed').length > 0]))
        .toEqual([['pt-as-plus', 2, false], ['plus', 0, true]]);
      expect(r.code).toBe(2);
      expect(sha(sim.romfsFile)).toBe(before);
    } finally {
      await other.stop();
    }
  }, 120_000);

  it('the same board with its own profile, or none, is driven as usual', async () => {
    expect(await hil('exec', '--device', sim.connection, '--profile', 'openmv-pt', 'print(2)')).toEqual({ code: 0, stdout: '2\n', stderr: '' });
    const r = await hil('exec', '--device', sim.connection, 'print(3)');
    expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 0, stdout: '3\n' });
    expect(r.stderr).toMatch(/: profile openmv-pt \(detected: /);
  }, 60_000);
});
