/**
 * Remote ports (issue 16): one board reached directly through its pty, through Debian's ser2net
 * exporting that pty as an RFC 2217 port on loopback (harness/transport/rfc2217/ser2net.ts: the
 * configuration README documents: tcp(nodelay), chardelay off, 4096-byte buffers), and, as the
 * reference for what ser2net itself costs, through the same ser2net configuration in raw mode
 * (socket://: no telnet at all). Same run, alternating (pty, rfc2217, raw, pty, ...) so drift of
 * the machine's load hits all three:
 *   - exec round trip of `pass`: every exec timed alone, the median of all (p25-p75 in the note);
 *     ratio = pty time / rfc2217 time (1 is as fast as the pty), and the time ser2net adds per
 *     round trip (rfc2217 median - pty median). The raw ser2net figure beside it says how much of
 *     the gap is ser2net's own relay (an extra process woken twice per round trip, two more
 *     loopback hops) rather than hil's telnet layer (rfc2217 vs raw: ratio raw time / rfc2217 time);
 *   - hil flash payload throughput of an incompressible image, ROUNDS flashes each way: the median
 *     rate, and as ratio the median of the rounds' own ratios (rfc2217 rate / pty rate of the same
 *     round), their min-max in the note: a single flash on a loaded machine is noise.
 * Goal: >= 0.9 for both.
 *
 * Which board. ser2net adds a fixed time per round trip (its process woken once each way, two
 * loopback hops); the ratio then depends on how long the board itself takes, so the board must
 * answer like a cam does for the ratio to say what a camera team will see:
 *   - QEMU mps2-an385 (HIL_QEMU_FIRMWARE): the real MicroPython firmware's raw REPL over an emulated
 *     UART, its round trip in the milliseconds as a USB cam's is (host controller scheduling, the
 *     cam's USB stack). The exec goal is judged here when it is available;
 *   - the simulated board (MicroPython in WebAssembly behind a pty), always: much faster than any
 *     cam (an exec of `pass` answers in about 0.3 ms on a quiet machine), so the fixed relay cost
 *     weighs most there. Its ratio is the worst case, reported beside; it carries the goal only
 *     when QEMU is not available. Flash throughput is measured on it (the flash figures of QEMU
 *     are link-bound differently: benchmarks/flash.bench.ts).
 * The time ser2net adds per round trip (in the notes) is the figure that does not depend on the
 * board. Skipped (a note) when ser2net is not installed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, openSync } from 'node:fs';
import type { BenchContext, Figure } from './index.js';
import { openDevice } from '../harness/device/index.js';
import type { Device } from '../harness/device/types.js';
import { QemuBoard } from '../harness/device/qemu.js';
import { startSim } from '../harness/sim/index.js';
import { flashImage } from '../harness/flash/flashImage.js';
import { silentProgress } from '../harness/flash/progress.js';
import { flatRomfs } from '../harness/flash/testImage.js';
import { loadProfile, type BoardProfile } from '../harness/profile/profile.js';
import { ser2netVersion, startSer2net } from '../harness/transport/rfc2217/ser2net.js';

const ROUNDS = 6;
const EXECS = 40;
const quantile = (a: number[], q: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * q))]!;
const median = (a: number[]) => quantile(a, 0.5);
const spread = (a: number[]) => `p25-p75 ${quantile(a, 0.25).toFixed(2)}-${quantile(a, 0.75).toFixed(2)}`;
const minMax = (a: number[]) => `${Math.min(...a).toFixed(2)}-${Math.max(...a).toFixed(2)}`;

const MODES = ['pty', 'rfc2217', 'raw'] as const;
type Mode = (typeof MODES)[number];

async function execTimes(d: Device): Promise<number[]> {
  for (let i = 0; i < 5; i++) await d.exec('pass');
  const rts: number[] = [];
  for (let i = 0; i < EXECS; i++) {
    const t0 = performance.now();
    await d.exec('pass');
    rts.push(performance.now() - t0);
  }
  return rts;
}

async function flashRate(d: Device, image: Uint8Array): Promise<number> {
  const r = await flashImage(d, { image, imageName: 'bench', force: true, partition: 0, onProgress: silentProgress });
  const want = createHash('sha256').update(image).digest('hex');
  if (r.skipped || r.verifiedSha256 !== want) throw new Error(`flash not verified (board sha256 ${r.verifiedSha256})`);
  return r.rate;
}

interface BoardRun {
  rt: Record<Mode, number[]>;
  /** Per round, per mode: flash rate (B/s); empty when not flashed. */
  rate: Record<Mode, number[]>;
}

/** ROUNDS interleaved rounds of (pty, rfc2217, raw) on the board at `pty`. */
async function measureBoard(ctx: BenchContext, label: string, pty: string, profile: BoardProfile, image: Uint8Array | null): Promise<BoardRun> {
  const got: BoardRun = { rt: { pty: [], rfc2217: [], raw: [] }, rate: { pty: [], rfc2217: [], raw: [] } };
  const s2n = await startSer2net({ device: pty });
  const raw = await startSer2net({ device: pty, mode: 'raw' }).catch(async (e) => {
    await s2n.stop();
    throw e;
  });
  const conn: Record<Mode, string> = { pty, rfc2217: s2n.connection, raw: raw.connection };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of MODES) {
        const d = await openDevice({ connection: conn[mode], profile });
        try {
          const rts = await execTimes(d);
          got.rt[mode].push(...rts);
          const rate = image ? await flashRate(d, image) : NaN;
          if (image) got.rate[mode].push(rate);
          ctx.log(`${label} round ${round + 1} ${mode}: exec median ${median(rts).toFixed(2)} ms${image ? `, flash ${Math.round(rate)} B/s` : ''}`);
        } finally {
          await d.close();
        }
      }
    }
  } finally {
    await raw.stop();
    await s2n.stop();
  }
  return got;
}

/** `judged`: this board carries the goal (see the header); otherwise the ratio is shown without it. */
function execFigures(label: string, note: string, got: BoardRun, judged: boolean): Figure[] {
  const rtP = median(got.rt.pty);
  const rtR = median(got.rt.rfc2217);
  const rtW = median(got.rt.raw);
  const rtNote = (a: number[]) => `${note}, median of ${a.length} execs, ${spread(a)} ms`;
  return [
    {
      name: `rfc2217.exec-round-trip (${label})`, value: rtR, unit: 'ms', note: `${rtNote(got.rt.rfc2217)}; ser2net adds ${((rtR - rtP) * 1000).toFixed(0)} us per round trip`,
      reference: { name: 'same board, direct pty', value: rtP, unit: 'ms' }, ratio: rtP / rtR,
      ...(judged ? { goal: '>= 0.9 (pty time / rfc2217 time)', met: rtP / rtR >= 0.9 } : { goal: 'none here: worst case (the goal is judged on QEMU)' }),
    },
    {
      name: `ser2net raw socket:// exec-round-trip (${label}: what ser2net costs without telnet)`, value: rtW, unit: 'ms', note: rtNote(got.rt.raw),
      reference: { name: 'same board, direct pty', value: rtP, unit: 'ms' }, ratio: rtP / rtW,
    },
    {
      name: `rfc2217 telnet layer: exec-round-trip against ser2net raw (${label})`, value: rtR, unit: 'ms', note,
      reference: { name: 'same ser2net, raw socket://', value: rtW, unit: 'ms' }, ratio: rtW / rtR,
      ...(judged ? { goal: '>= 0.9 (raw time / rfc2217 time)', met: rtW / rtR >= 0.9 } : {}),
    },
  ];
}

function flashFigures(label: string, note: string, got: BoardRun, bytes: number): Figure[] {
  const kib = Math.round(bytes / 1024);
  const perRound = (m: Mode) => got.rate[m].map((r, i) => r / got.rate.pty[i]!);
  const rfc = perRound('rfc2217');
  const raw = perRound('raw');
  const rateNote = (m: Mode, ratios: number[]) =>
    `${note}, median of ${got.rate[m].length} flashes (${spread(got.rate[m].map((r) => r / 1000))} kB/s); ratio: median of the rounds' own ratios, min-max ${minMax(ratios)}`;
  return [
    {
      name: `rfc2217.flash-throughput (${label}, ${kib} KiB)`, value: Math.round(median(got.rate.rfc2217)), unit: 'B/s', note: rateNote('rfc2217', rfc),
      reference: { name: 'same board, direct pty', value: Math.round(median(got.rate.pty)), unit: 'B/s' }, ratio: median(rfc), goal: '>= 0.9 of the pty rate', met: median(rfc) >= 0.9,
    },
    {
      name: `ser2net raw socket:// flash-throughput (${label}, ${kib} KiB)`, value: Math.round(median(got.rate.raw)), unit: 'B/s', note: rateNote('raw', raw),
      reference: { name: 'same board, direct pty', value: Math.round(median(got.rate.pty)), unit: 'B/s' }, ratio: median(raw),
    },
  ];
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const version = ser2netVersion();
  if (!version) return [{ name: 'rfc2217', value: NaN, unit: '', note: 'skipped: ser2net is not installed' }];
  const note = `${version}, loopback, ${ROUNDS} interleaved rounds`;
  const figures: Figure[] = [];

  const fw = process.env.HIL_QEMU_FIRMWARE;
  const haveQemu = !!fw && existsSync(fw);
  const profile = loadProfile('openmv-h7');
  const image = flatRomfs([{ name: 'model.tflite', data: randomBytes(96 * 1024) }], profile.align.models);
  const sim = await startSim({ profile });
  try {
    const got = await measureBoard(ctx, 'simulated board', sim.connection, profile, image);
    figures.push(...execFigures('simulated board', note, got, !haveQemu), ...flashFigures('simulated board', note, got, image.length));
  } finally {
    await sim.stop();
  }

  if (haveQemu) {
    const qprofile = loadProfile('qemu-mps2-an385');
    const qemu = await QemuBoard.start({ profile: qprofile, firmware: fw! });
    // Held open (never read) all along: QEMU polls a pty nobody holds only once a second for a
    // new opener, and ser2net opens the pty anew for each client (benchmarks/speed.bench.ts).
    const held = openSync(qemu.ptyPath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    try {
      const got = await measureBoard(ctx, 'QEMU mps2-an385', qemu.ptyPath, qprofile, null);
      figures.push(...execFigures('QEMU mps2-an385', note, got, true));
    } finally {
      closeSync(held);
      await qemu.stop();
    }
  } else {
    figures.push({ name: 'rfc2217.exec-round-trip (QEMU mps2-an385)', value: NaN, unit: '', note: 'not measured: set HIL_QEMU_FIRMWARE (the goal is then judged on the simulated board, the worst case)' });
  }
  return figures;
}
