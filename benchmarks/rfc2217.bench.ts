/**
 * Remote ports (issue 16): the same simulated board reached directly through its pty and
 * through Debian's ser2net exporting that pty as an RFC 2217 port on loopback
 * (harness/transport/rfc2217/ser2net.ts), in the same run, alternating (pty, rfc2217, pty, ...)
 * so drift of the machine's load hits both; the median of the rounds is reported.
 *   - exec round trip of `pass` (ratio = pty time / rfc2217 time: 1 is as fast as the pty);
 *   - hil flash payload throughput of an incompressible image (ratio = rfc2217 rate / pty rate).
 * Goal: >= 0.9 for both. Skipped (a note) when ser2net is not installed.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BenchContext, Figure } from './index.js';
import { openDevice } from '../harness/device/index.js';
import type { Device } from '../harness/device/types.js';
import { startSim } from '../harness/sim/index.js';
import { flashImage } from '../harness/flash/flashImage.js';
import { silentProgress } from '../harness/flash/progress.js';
import { flatRomfs } from '../harness/flash/testImage.js';
import { loadProfile } from '../harness/profile/profile.js';
import { ser2netVersion, startSer2net } from '../harness/transport/rfc2217/ser2net.js';

const ROUNDS = 5;
const EXECS = 50;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

async function measure(d: Device, image: Uint8Array): Promise<{ rt: number; rate: number }> {
  for (let i = 0; i < 5; i++) await d.exec('pass');
  const t0 = performance.now();
  for (let i = 0; i < EXECS; i++) await d.exec('pass');
  const rt = (performance.now() - t0) / EXECS;
  const r = await flashImage(d, { image, imageName: 'bench', force: true, partition: 0, onProgress: silentProgress });
  const want = createHash('sha256').update(image).digest('hex');
  if (r.skipped || r.verifiedSha256 !== want) throw new Error(`flash not verified (board sha256 ${r.verifiedSha256})`);
  return { rt, rate: r.rate };
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const version = ser2netVersion();
  if (!version) return [{ name: 'rfc2217', value: NaN, unit: '', note: 'skipped: ser2net is not installed' }];
  const profile = loadProfile('openmv-h7');
  const image = flatRomfs([{ name: 'model.tflite', data: randomBytes(96 * 1024) }], profile.align.models);
  const sim = await startSim({ profile });
  const s2n = await startSer2net({ device: sim.connection });
  const got: Record<'pty' | 'rfc2217', { rt: number[]; rate: number[] }> = { pty: { rt: [], rate: [] }, rfc2217: { rt: [], rate: [] } };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of ['pty', 'rfc2217'] as const) {
        const d = await openDevice({ connection: mode === 'pty' ? sim.connection : s2n.connection, profile });
        try {
          const m = await measure(d, image);
          got[mode].rt.push(m.rt);
          got[mode].rate.push(m.rate);
          ctx.log(`round ${round + 1} ${mode}: exec ${m.rt.toFixed(2)} ms, flash ${Math.round(m.rate)} B/s`);
        } finally {
          await d.close();
        }
      }
    }
  } finally {
    await s2n.stop();
    await sim.stop();
  }
  const rtP = median(got.pty.rt);
  const rtR = median(got.rfc2217.rt);
  const rateP = median(got.pty.rate);
  const rateR = median(got.rfc2217.rate);
  const note = `${version}, loopback, median of ${ROUNDS}`;
  return [
    {
      name: 'rfc2217.exec-round-trip', value: rtR, unit: 'ms', note,
      reference: { name: 'same board, direct pty', value: rtP, unit: 'ms' }, ratio: rtP / rtR, goal: '>= 0.9 (pty time / rfc2217 time)', met: rtP / rtR >= 0.9,
    },
    {
      name: `rfc2217.flash-throughput (${Math.round(image.length / 1024)} KiB)`, value: Math.round(rateR), unit: 'B/s', note,
      reference: { name: 'same board, direct pty', value: Math.round(rateP), unit: 'B/s' }, ratio: rateR / rateP, goal: '>= 0.9 of the pty rate', met: rateR / rateP >= 0.9,
    },
  ];
}
