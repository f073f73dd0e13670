/**
 * `hil run` usage and configuration errors: exit 2 with one line naming the file or field, before
 * any board is opened.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { captureOutput } from '../../../test/helpers/captureOutput.js';
import { main } from '../main.js';

const root = resolve(new URL('../../..', import.meta.url).pathname);
const tmp = mkdtempSync(join(tmpdir(), 'hil-run-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const io = captureOutput();

const run = (...args: string[]) => main(['run', ...args]);

describe('hil run: usage and configuration', () => {
  it('refuses an unknown scenario (exit 2) naming where it looked', async () => {
    expect(await run('no-such-scenario', '--device', 'sim')).toBe(2);
    expect(io.stderr).toMatch(/^hil: scenario 'no-such-scenario' not found \(looked in .*scenarios\/no-such-scenario/);
  });

  it('refuses --device together with --bench', async () => {
    expect(await run(join(root, 'scenarios/model-load'), '--device', 'sim', '--bench', 'b.yaml')).toBe(2);
    expect(io.stderr).toBe('hil: give --device or --bench, not both\n');
  });

  it('refuses a bench file with a bad device entry, naming file and field', async () => {
    const f = join(tmp, 'bench.yaml');
    writeFileSync(f, 'devices:\n  cam1: { connection: /dev/ttyACM0 }\n');
    expect(await run(join(root, 'scenarios/model-load'), '--bench', f)).toBe(2);
    expect(io.stderr).toBe(`hil: ${f}: field 'devices.cam1.profile' must be a profile name or path\n`);
  });

  it('refuses qemu without a profile (hil must know which machine to start)', async () => {
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      expect(await run(join(root, 'scenarios/model-load'), '--device', 'qemu')).toBe(2);
    } finally {
      process.chdir(cwd);
    }
    expect(io.stderr).toBe('hil: device qemu: give --profile (hil must know which machine to start: a qemu-* profile)\n');
  });

  it('refuses a scenario whose definition is malformed, naming the field', async () => {
    mkdirSync(join(tmp, 'bad'), { recursive: true });
    writeFileSync(join(tmp, 'bad', 'scenario.yaml'), 'image: x.img\nflash: maybe\nchecks: [listing]\n');
    expect(await run(join(tmp, 'bad'), '--device', 'sim')).toBe(2);
    expect(io.stderr).toBe(`hil: ${join(tmp, 'bad', 'scenario.yaml')}: field 'flash' must be auto, always or never (got "maybe")\n`);
  });

  it('refuses an unknown profile', async () => {
    expect(await run(join(root, 'scenarios/model-load'), '--device', 'sim', '--profile', 'openmv-h9')).toBe(2);
    expect(io.stderr).toMatch(/^hil: unknown profile 'openmv-h9' \(known: /);
  });
});
