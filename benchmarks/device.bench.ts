/**
 * Device layer figures, on the simulated board and (when HIL_QEMU_FIRMWARE is set) on real
 * MicroPython under QEMU mps2-an385:
 *   - exec round trip of `pass`, next to the link's byte round trip measured in the same run
 *     (one byte out to a program that echoes it);
 *   - binary-channel payload throughput, next to the link's raw host-to-board byte rate measured
 *     in the same run (a board program reading the same number of bytes, no framing, no acks).
 * Goals (QEMU): round trip <= 0.64 ms (mpremote's, measured), channel >= 90 % of the raw rate.
 */
import { existsSync } from 'node:fs';
import type { BenchContext, Figure } from './index.js';
import { openDevice, type ReplDevice } from '../harness/device/index.js';
import type { Device } from '../harness/device/types.js';

async function rawRate(d: ReplDevice, n: number): Promise<number> {
  // The board reads n bytes in large pieces and says when it has them all.
  await d.repl.submit(`import sys, micropython\nmicropython.kbd_intr(-1)\nb = bytearray(4096)\nm = memoryview(b)\nleft = ${n}\nsys.stdout.write('\\x06')\nwhile left:\n    left -= sys.stdin.buffer.readinto(m[:min(4096, left)])\nmicropython.kbd_intr(3)\nprint('done')`, 10000);
  await d.transport.rx.readUntil('\x06', Date.now() + 10000, 'bench');
  const data = Buffer.alloc(n, 0x55);
  const t0 = performance.now();
  await d.transport.write(data);
  await d.transport.rx.readUntil('done', Date.now() + 120000, 'bench');
  const secs = (performance.now() - t0) / 1000;
  await d.repl.collect(Date.now() + 10000);
  return n / secs;
}

async function echoRoundTrip(d: ReplDevice, n: number): Promise<number> {
  await d.repl.submit(`import sys, micropython\nmicropython.kbd_intr(-1)\nb = bytearray(1)\nsys.stdout.write('R')\nfor i in range(${n}):\n    sys.stdin.buffer.readinto(b)\n    sys.stdout.write('e')\nmicropython.kbd_intr(3)`, 10000);
  await d.transport.rx.readUntil('R', Date.now() + 10000, 'bench');
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await d.transport.write('x');
    await d.transport.rx.readUntil('e', Date.now() + 10000, 'bench');
  }
  const ms = (performance.now() - t0) / n;
  await d.repl.collect(Date.now() + 10000);
  return ms;
}

async function measure(label: string, d: Device, payload: number, goalRt: boolean): Promise<Figure[]> {
  const rd = d as ReplDevice;
  for (let i = 0; i < 5; i++) await d.exec('pass');
  const n = 50;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await d.exec('pass');
  const rt = (performance.now() - t0) / n;
  const echo = await echoRoundTrip(rd, 50);
  const raw = await rawRate(rd, payload);
  const data = new Uint8Array(payload);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const t1 = performance.now();
  await d.sendBinary({ setup: 'def _hil_null(mv, off):\n    pass', sink: '_hil_null' }, data, { chunkSize: 2048 });
  const chan = payload / ((performance.now() - t1) / 1000);
  return [
    { name: `device.${label}.exec-round-trip`, value: rt, unit: 'ms', reference: { name: 'link byte echo round trip', value: echo, unit: 'ms' }, ratio: rt / echo, goal: goalRt ? '<= 0.64 ms' : undefined, met: goalRt ? rt <= 0.64 : undefined },
    { name: `device.${label}.binary-channel`, value: chan / 1024, unit: 'KiB/s', reference: { name: 'link raw host-to-board rate', value: raw / 1024, unit: 'KiB/s' }, ratio: chan / raw, goal: '>= 0.9 of raw', met: chan / raw >= 0.9 },
  ];
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const figures: Figure[] = [];
  ctx.log('device: simulated board');
  const sim = await openDevice({ connection: 'sim', profile: 'openmv-h7' });
  try {
    figures.push(...(await measure('sim', sim, 512 * 1024, false)));
  } finally {
    await sim.close();
  }
  const fw = process.env.HIL_QEMU_FIRMWARE;
  if (fw && existsSync(fw)) {
    ctx.log('device: QEMU mps2-an385');
    const q = await openDevice({ connection: 'qemu', profile: 'qemu-mps2-an385', firmware: fw });
    try {
      figures.push(...(await measure('qemu-an385', q, 128 * 1024, true)));
    } finally {
      await q.close();
    }
  } else {
    figures.push({ name: 'device.qemu-an385', value: NaN, unit: '', note: 'skipped: HIL_QEMU_FIRMWARE not set' });
  }
  return figures;
}
