/**
 * `hil run` usage and configuration errors: exit 2 with one line naming the file or field, before
 * any board is opened.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { main } from '../main.js';

const root = resolve(new URL('../../..', import.meta.url).pathname);
const tmp = mkdtempSync(join(tmpdir(), 'hil-run-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let stderr = '';
let stdout = '';
beforeEach(() => {
  stderr = '';
  stdout = '';
  jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
  process.exitCode = undefined;
});
afterEach(() => {
  jest.restoreAllMocks();
  process.exitCode = undefined;
});

const run = (...args: string[]) => main(['run', ...args]);

describe('hil run: usage and configuration', () => {
  it('refuses an unknown scenario (exit 2) naming where it looked', async () => {
    expect(await run('no-such-scenario', '--device', 'sim')).toBe(2);
    expect(stderr).toMatch(/^hil: scenario 'no-such-scenario' not found \(looked in .*scenarios\/no-such-scenario/);
  });

  it('refuses --device together with --bench', async () => {
    expect(await run(join(root, 'scenarios/model-load'), '--device', 'sim', '--bench', 'b.yaml')).toBe(2);
    expect(stderr).toBe('hil: give --device or --bench, not both\n');
  });

  it('refuses a bench file with a bad device entry, naming file and field', async () => {
    const f = join(tmp, 'bench.yaml');
    writeFileSync(f, 'devices:\n  cam1: { connection: /dev/ttyACM0 }\n');
    expect(await run(join(root, 'scenarios/model-load'), '--bench', f)).toBe(2);
    expect(stderr).toBe(`hil: ${f}: field 'devices.cam1.profile' must be a profile name or path\n`);
  });

  it('refuses qemu without a profile (hil must know which machine to start)', async () => {
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      expect(await run(join(root, 'scenarios/model-load'), '--device', 'qemu')).toBe(2);
    } finally {
      process.chdir(cwd);
    }
    expect(stderr).toBe('hil: device qemu: give --profile (hil must know which machine to start: a qemu-* profile)\n');
  });

  it('refuses a scenario whose definition is malformed, naming the field', async () => {
    mkdirSync(join(tmp, 'bad'), { recursive: true });
    writeFileSync(join(tmp, 'bad', 'scenario.yaml'), 'image: x.img\nflash: maybe\nchecks: [listing]\n');
    expect(await run(join(tmp, 'bad'), '--device', 'sim')).toBe(2);
    expect(stderr).toBe(`hil: ${join(tmp, 'bad', 'scenario.yaml')}: field 'flash' must be auto, always or never (got "maybe")\n`);
  });

  it('refuses an unknown profile', async () => {
    expect(await run(join(root, 'scenarios/model-load'), '--device', 'sim', '--profile', 'openmv-h9')).toBe(2);
    expect(stderr).toMatch(/^hil: unknown profile 'openmv-h9' \(known: /);
  });
});
