/**
 * Sealed answers and run-at-most-once (runOnce.cases.ts) on real MicroPython (ports/qemu,
 * MPS2_AN385) under qemu-system-arm, when HIL_QEMU_FIRMWARE points at its firmware.elf; skipped
 * with the reason printed otherwise. QEMU's serial is a TCP server; hil reaches it through the
 * fault-injecting link, and the case image is loaded into the ROMFS partition at boot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from '@jest/globals';
import { openDevice } from './index.js';
import type { Device } from './types.js';
import { FaultProxy } from '../fault/faultProxy.js';
import { loadProfile } from '../profile/profile.js';
import { caseImage, runOnceCases } from './runOnce.cases.js';

const firmware = process.env.HIL_QEMU_FIRMWARE;
const reason = !firmware ? 'HIL_QEMU_FIRMWARE is not set' : !existsSync(firmware) ? `${firmware} does not exist` : '';
if (reason) console.log(`sealed.qemu.test: skipped: ${reason}`);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

(reason ? describe.skip : describe)('sealed answers and code run once, on MicroPython under QEMU through the fault proxy', () => {
  let qemu: ChildProcess | undefined;
  let proxy: FaultProxy;
  let device: Device;
  let tmp: string;
  beforeAll(async () => {
    const profile = loadProfile('qemu-mps2-an385');
    tmp = mkdtempSync(join(tmpdir(), 'hil-sealed-qemu-'));
    const img = join(tmp, 'case.img');
    writeFileSync(img, caseImage());
    const port = await freePort();
    qemu = spawn('qemu-system-arm', [
      '-machine', 'mps2-an385', '-nographic', '-monitor', 'null', '-semihosting',
      '-serial', `tcp:127.0.0.1:${port},server=on,wait=off`, '-kernel', firmware!,
      '-device', `loader,file=${img},addr=0x${profile.partition.origin.toString(16)},force-raw=on`,
    ], { stdio: 'ignore' });
    proxy = await FaultProxy.start({ upstream: `socket://127.0.0.1:${port}`, seed: 7 });
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        device = await openDevice({ connection: proxy.connection, profile, name: 'qemu' });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  }, 60_000);
  afterAll(async () => {
    await device?.close();
    await proxy?.close();
    qemu?.kill();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  runOnceCases({ device: () => device, proxy: () => proxy });
});
