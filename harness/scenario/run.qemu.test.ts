/**
 * `hil run scenarios/model-load` on real MicroPython under qemu-system-arm (MPS2_AN385), when
 * HIL_QEMU_FIRMWARE names a firmware built by the user; skipped with the reason otherwise.
 * Same pass and fail cases as on the sim; the first inference is SKIPPED (no `ml` module there).
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runScenarios as runScenariosLib, type RunScenariosOptions } from '../bench/runScenarios.js';
import type { BenchTarget } from '../bench/inventory.js';
import type { Device } from '../device/types.js';
import { TcpRawReplDouble } from '../../test/doubles/tcpRawRepl.js';
import type { RunResult } from './result.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const firmware = process.env.HIL_QEMU_FIRMWARE;
const haveDevice = existsSync(join(root, 'harness/device/index.ts'));
const why = !firmware ? 'HIL_QEMU_FIRMWARE is not set' : !existsSync(firmware) ? `HIL_QEMU_FIRMWARE=${firmware} does not exist` : '';
if (why) console.log(`run.qemu.test: skipped: ${why}`);
else if (!haveDevice) console.log('run.qemu.test: harness/device is absent: QEMU is started here and reached through the TcpRawReplDouble test double');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Without the device layer: start qemu-system-arm (serial on TCP) and reach it through the labelled double. */
async function openQemuWithDouble(t: BenchTarget): Promise<Device> {
  const port = await freePort();
  const q = spawn('qemu-system-arm', [
    '-machine', 'mps2-an385', '-nographic', '-monitor', 'null', '-semihosting',
    '-serial', `tcp:127.0.0.1:${port},server=on,wait=off`, '-kernel', firmware!,
  ], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const dev = await TcpRawReplDouble.open(port, t.profile, t.name);
      const close = dev.close.bind(dev);
      dev.close = async () => {
        try {
          await close();
        } finally {
          q.kill();
        }
      };
      return dev;
    } catch (e) {
      if (Date.now() > deadline) {
        q.kill();
        throw e;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
const runScenarios = (o: RunScenariosOptions) => runScenariosLib(haveDevice ? o : { ...o, open: openQemuWithDouble });
const d = why ? describe.skip : describe;

const tmp = mkdtempSync(join(tmpdir(), 'hil-run-qemu-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const statuses = (r: RunResult) => Object.fromEntries(r.devices[0]!.scenarios[0]!.checks.map((c) => [c.name, c.status]));
const modelLoad = join(root, 'scenarios/model-load');
const opts = { scenarios: [modelLoad], device: 'qemu', profile: 'qemu-mps2-an385', cwd: root, lockDir: join(tmp, 'locks') };

d('hil run scenarios/model-load on MicroPython under QEMU', () => {
  it('passes with the image built from images/demo; the first inference is SKIPPED (no ml)', async () => {
    const r = await runScenarios(opts);
    expect(r.devices[0]!.error).toBeUndefined();
    expect(r.devices[0]!.scenarios[0]!.error).toBeUndefined();
    expect(statuses(r)).toEqual({ listing: 'passed', imports: 'passed', 'models.placement': 'passed', 'models.inference': 'skipped' });
    expect(r.devices[0]!.scenarios[0]!.checks[3]!.reason).toMatch(/^no ml module on this firmware/);
    expect(r.exitCode).toBe(0);
  });

  it("fails with mpremote's image, naming model.tflite, its offset and its address", async () => {
    const r = await runScenarios({ ...opts, image: join(root, 'test/fixtures/romfs/demo.mpremote.img') });
    expect(statuses(r)).toEqual({ listing: 'passed', imports: 'passed', 'models.placement': 'failed', 'models.inference': 'skipped' });
    expect(r.devices[0]!.scenarios[0]!.checks[2]!.reason).toBe(
      'model.tflite: data at image offset 482 sits at address 0x210001e2, which is 2 mod 16: not 16-byte aligned as profile qemu-mps2-an385 requires for models',
    );
    expect(r.exitCode).toBe(1);
  });
});
