/**
 * Remote ports (issue 16): the same simulated board reached directly through its pty, through
 * Debian's ser2net exporting that pty as an RFC 2217 port on loopback
 * (harness/transport/rfc2217/ser2net.ts: tcp(nodelay), chardelay off, 4096-byte buffers), and,
 * as the reference for what ser2net itself costs, through the same ser2net configuration in raw
 * mode (socket://: no telnet at all). Same run, alternating (pty, rfc2217, raw, pty, ...) so drift
 * of the machine's load hits all three:
 *   - exec round trip of `pass`: every exec timed alone, the median of all (p25-p75 in the note);
 *     ratio = pty time / rfc2217 time (1 is as fast as the pty). The raw ser2net figure beside
 *     it says how much of the gap is ser2net's own relay (an extra process, two more loopback hops
 *     per round trip) rather than hil's telnet layer (rfc2217 vs raw: ratio raw time / rfc2217 time);
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

const ROUNDS = 6;
const EXECS = 40;
const quantile = (a: number[], q: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * q))]!;
const median = (a: number[]) => quantile(a, 0.5);
const spread = (a: number[]) => `p25-p75 ${quantile(a, 0.25).toFixed(2)}-${quantile(a, 0.75).toFixed(2)}`;

async function measure(d: Device, image: Uint8Array): Promise<{ rts: number[]; rate: number }> {
  for (let i = 0; i < 5; i++) await d.exec('pass');
  const rts: number[] = [];
  for (let i = 0; i < EXECS; i++) {
    const t0 = performance.now();
    await d.exec('pass');
    rts.push(performance.now() - t0);
  }
  const r = await flashImage(d, { image, imageName: 'bench', force: true, partition: 0, onProgress: silentProgress });
  const want = createHash('sha256').update(image).digest('hex');
  if (r.skipped || r.verifiedSha256 !== want) throw new Error(`flash not verified (board sha256 ${r.verifiedSha256})`);
  return { rts, rate: r.rate };
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const version = ser2netVersion();
  if (!version) return [{ name: 'rfc2217', value: NaN, unit: '', note: 'skipped: ser2net is not installed' }];
  const profile = loadProfile('openmv-h7');
  const image = flatRomfs([{ name: 'model.tflite', data: randomBytes(96 * 1024) }], profile.align.models);
  const sim = await startSim({ profile });
  const modes = ['pty', 'rfc2217', 'raw'] as const;
  const got: Record<(typeof modes)[number], { rt: number[]; rate: number[] }> = { pty: { rt: [], rate: [] }, rfc2217: { rt: [], rate: [] }, raw: { rt: [], rate: [] } };
  const s2n = await startSer2net({ device: sim.connection });
  const raw = await startSer2net({ device: sim.connection, mode: 'raw' }).catch(async (e) => {
    await s2n.stop();
    throw e;
  });
  const conn = { pty: sim.connection, rfc2217: s2n.connection, raw: raw.connection };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of modes) {
        const d = await openDevice({ connection: conn[mode], profile });
        try {
          const m = await measure(d, image);
          got[mode].rt.push(...m.rts);
          got[mode].rate.push(m.rate);
          ctx.log(`round ${round + 1} ${mode}: exec median ${median(m.rts).toFixed(2)} ms, flash ${Math.round(m.rate)} B/s`);
        } finally {
          await d.close();
        }
      }
    }
  } finally {
    await raw.stop();
    await s2n.stop();
    await sim.stop();
  }
  const rtP = median(got.pty.rt);
  const rtR = median(got.rfc2217.rt);
  const rtW = median(got.raw.rt);
  const rateP = median(got.pty.rate);
  const rateR = median(got.rfc2217.rate);
  const rateW = median(got.raw.rate);
  const note = `${version}, loopback, ${ROUNDS} interleaved rounds`;
  const rtNote = (a: number[]) => `${note}, median of ${a.length} execs, ${spread(a)} ms`;
  return [
    {
      name: 'rfc2217.exec-round-trip', value: rtR, unit: 'ms', note: rtNote(got.rfc2217.rt),
      reference: { name: 'same board, direct pty', value: rtP, unit: 'ms' }, ratio: rtP / rtR, goal: '>= 0.9 (pty time / rfc2217 time)', met: rtP / rtR >= 0.9,
    },
    {
      name: 'ser2net raw socket:// exec-round-trip (what ser2net costs without telnet)', value: rtW, unit: 'ms', note: rtNote(got.raw.rt),
      reference: { name: 'same board, direct pty', value: rtP, unit: 'ms' }, ratio: rtP / rtW,
    },
    {
      name: 'rfc2217 telnet layer: exec-round-trip against ser2net raw', value: rtR, unit: 'ms', note,
      reference: { name: 'same ser2net, raw socket://', value: rtW, unit: 'ms' }, ratio: rtW / rtR, goal: '>= 0.9 (raw time / rfc2217 time)', met: rtW / rtR >= 0.9,
    },
    {
      name: `rfc2217.flash-throughput (${Math.round(image.length / 1024)} KiB)`, value: Math.round(rateR), unit: 'B/s', note: `${note}, median of ${ROUNDS} flashes`,
      reference: { name: 'same board, direct pty', value: Math.round(rateP), unit: 'B/s' }, ratio: rateR / rateP, goal: '>= 0.9 of the pty rate', met: rateR / rateP >= 0.9,
    },
    {
      name: `ser2net raw socket:// flash-throughput (${Math.round(image.length / 1024)} KiB)`, value: Math.round(rateW), unit: 'B/s', note: `${note}, median of ${ROUNDS} flashes`,
      reference: { name: 'same board, direct pty', value: Math.round(rateP), unit: 'B/s' }, ratio: rateW / rateP,
    },
  ];
}
