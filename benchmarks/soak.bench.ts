/**
 * Soak on the simulated board (issue 6): HIL_SOAK_EXECS (default 1,000) consecutive exec round
 * trips and HIL_SOAK_FLASHES (default 50) flash-verify cycles (force, alternating two images so
 * every cycle writes) on one open device. Open file descriptors (/proc/self/fd) and heap are
 * sampled after warm-up and at the end. Bounds: fd growth 0, heap growth < 32 MiB.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext, Figure } from './index.js';
import { loadProfile } from '../harness/profile/profile.js';
import { startSim } from '../harness/sim/index.js';
import { openDevice } from '../harness/device/index.js';
import { flashImage } from '../harness/flash/index.js';

const fds = () => readdirSync('/proc/self/fd').length;
const heapMiB = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const execs = Number(process.env.HIL_SOAK_EXECS ?? 1000);
  const flashes = Number(process.env.HIL_SOAK_FLASHES ?? 50);
  const profile = loadProfile('openmv-h7');
  const sim = await startSim({ profile, link: 'pty' });
  const device = await openDevice({ connection: sim.connection, profile });
  try {
    const imgA = new Uint8Array(readFileSync(join(ctx.root, 'test/fixtures/romfs/micropython-random.img')));
    const imgB = new Uint8Array(readFileSync(join(ctx.root, 'test/fixtures/romfs/demo.mpremote.img')));
    for (let i = 0; i < 20; i++) await device.exec('pass');
    const fd0 = fds();
    const heap0 = heapMiB();
    const t0 = performance.now();
    for (let i = 0; i < execs; i++) {
      const out = await device.exec(`print(${i}*2)`);
      if (out.trim() !== String(i * 2)) throw new Error(`exec ${i}: got ${JSON.stringify(out)}`);
    }
    const execMs = (performance.now() - t0) / execs;
    const fd1 = fds();
    const t1 = performance.now();
    for (let i = 0; i < flashes; i++) {
      await flashImage(device, { image: i % 2 ? imgB : imgA, imageName: `soak-${i % 2}`, force: true, allowMisaligned: true });
      if (i % 10 === 0) ctx.log(`flash-verify ${i + 1}/${flashes}`);
    }
    const flashS = (performance.now() - t1) / 1000 / flashes;
    const fd2 = fds();
    const heap2 = heapMiB();
    return [
      { name: 'soak exec round trips', value: execs, unit: 'runs', note: `${execMs.toFixed(2)} ms each` },
      { name: 'soak flash-verify cycles', value: flashes, unit: 'runs', note: `${flashS.toFixed(2)} s each` },
      { name: 'soak open fd growth', value: fd2 - fd0, unit: 'fds', note: `after execs ${fd1 - fd0}`, goal: '0', met: fd2 - fd0 <= 0 },
      { name: 'soak heap growth', value: heap2 - heap0, unit: 'MiB', goal: '< 32 MiB', met: heap2 - heap0 < 32 },
    ];
  } finally {
    await device.close();
    await sim.stop();
  }
}
