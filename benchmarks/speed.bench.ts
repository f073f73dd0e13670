/**
 * Speed figures of issue 15, `npm run bench -- speed`: each beside its reference measured in the
 * same run, interleaved (A B A B ...), medians after a warm-up, so a loaded machine slows both.
 * Real MicroPython under QEMU mps2-an385 when HIL_QEMU_FIRMWARE is set (else the simulated board);
 * real mpremote (tools/mpremote of the MicroPython checkout named by HIL_MPREMOTE_SRC, run with
 * python3 + pyserial) when set, else the bench's re-implementation of mpremote's method
 * (harness/bench/mpremoteMethod.ts); each figure says which.
 *   - exec round trip inside one connection, against mpremote's transport on the same pty;
 *   - whole processes: identical re-flash (`hil flash`, skip-if-same) against a bare `hil exec
 *     pass` on the same board; `hil --version`, `hil exec pass` start-up against `node -e 0`;
 *     `hil image build` of a 32 MiB tree against `mpremote romfs build` of the same tree;
 *   - flash of an incompressible model: against the link's raw rate and mpremote's method;
 *   - hil's own CPU with 16 simulated boards in parallel (whole process, thread pool included;
 *     the median of 5 runs after a warm-up, each a fresh process on fresh boards: bench16Run.ts);
 *   - model-load on QEMU, boot included; the sim's binary channel against its raw rate.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { BenchContext, Figure } from './index.js';
import { openDevice, type ReplDevice } from '../harness/device/index.js';
import { QemuBoard } from '../harness/device/qemu.js';
import { loadProfile } from '../harness/profile/profile.js';
import { flatRomfs } from '../harness/flash/testImage.js';
import { mpremoteExecLoop } from './speedMethod.js';
import { startSim, type SimBoard } from '../harness/sim/index.js';
import { runScenarios } from '../harness/bench/runScenarios.js';
import { flashFigures } from './flash.bench.js';

const ROUNDS = 9;
const EXECS = 40;

/** Counted runs of the 16-board figure (after one warm-up). */
const BENCH16_RUNS = 5;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A and B in turn (after one warm-up of each), `n` counted pairs: medians and the median of the pairwise ratios. */
async function interleaved(n: number, a: () => Promise<number>, b: () => Promise<number>): Promise<{ a: number; b: number; ratio: number }> {
  await a();
  await b();
  const as: number[] = [];
  const bs: number[] = [];
  const rs: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = await a();
    const y = await b();
    as.push(x);
    bs.push(y);
    rs.push(x / y);
  }
  return { a: median(as), b: median(bs), ratio: median(rs) };
}

/** Wall ms of one whole process (fails the figure on a non-zero exit unless `ok` allows it). */
function wholeProcess(cmd: string, args: string[], opts: { cwd?: string; ok?: number[] } = {}): () => Promise<number> {
  return () =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      const c = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'], env: process.env });
      let err = '';
      c.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-500)));
      c.on('error', reject);
      c.on('exit', (code) => {
        const ms = performance.now() - t0;
        if (!(opts.ok ?? [0]).includes(code ?? -1)) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`));
        else resolve(ms);
      });
    });
}

/** Real mpremote, one long-lived python3 driving its SerialTransport (benchmarks/speed_mpremote.py). */
class MpremoteDriver {
  private readonly c: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  constructor(root: string, src: string, device: string) {
    this.c = spawn(python(), [join(root, 'benchmarks', 'speed_mpremote.py'), src, device]);
    this.lines = createInterface({ input: this.c.stdout })[Symbol.asyncIterator]();
  }
  async run(warmup: number, n: number): Promise<ExecLoop> {
    this.c.stdin.write(`run ${warmup} ${n}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error('mpremote driver ended');
    const a = JSON.parse(r.value) as ExecLoop & { error?: string };
    if (a.error) throw new Error(`mpremote: ${a.error}`);
    return a;
  }
  close(): void {
    this.c.stdin.end('quit\n');
  }
}

/** The python3 that has pyserial (mpremote's one dependency a transport needs). */
function python(): string {
  for (const p of ['python3', '/usr/bin/python3']) {
    if (spawnSync(p, ['-c', 'import serial'], { stdio: 'ignore' }).status === 0) return p;
  }
  throw new Error('no python3 with pyserial (Debian: apt-get install python3-serial)');
}

/**
 * One 16-board run: 16 fresh simulated boards, model-load on them in a process of its own
 * (bench16Run.ts), the boards stopped after. Its CPU, main-thread CPU and wall time.
 */
async function bench16Run(root: string, dir: string): Promise<{ cpuMs: number; mainMs: number | null; wallMs: number }> {
  mkdirSync(dir, { recursive: true });
  const sims: SimBoard[] = [];
  try {
    for (let i = 0; i < 16; i++) sims.push(await startSim({ profile: 'openmv-h7', link: 'pty' }));
    const benchFile = join(dir, 'bench16.yaml');
    writeFileSync(benchFile, `devices:\n${sims.map((s, i) => `  cam${i}: { profile: openmv-h7, connection: ${JSON.stringify(s.connection)} }\n`).join('')}`);
    // Not spawnSync: the boards' supervisors are this process's children, read by its event loop.
    const child = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const c = spawn(process.execPath, [join(root, 'dist', 'benchmarks', 'bench16Run.js'), root, benchFile, join(dir, 'locks')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      const deadline = setTimeout(() => c.kill('SIGKILL'), 180_000);
      c.on('error', (e) => {
        clearTimeout(deadline);
        reject(e);
      });
      c.on('close', (status) => {
        clearTimeout(deadline);
        resolve({ status, stdout, stderr });
      });
    });
    const line = child.stdout.trim().split('\n').pop() ?? '';
    let r: { exitCode: number; cpuMs: number; mainMs: number | null; wallMs: number };
    try {
      r = JSON.parse(line);
    } catch {
      throw new Error(`bench16 run gave no figures (exit ${child.status}): ${child.stderr.trim().slice(-300)}`);
    }
    if (r.exitCode !== 0) throw new Error(`hil run on 16 boards exited ${r.exitCode}`);
    return r;
  } finally {
    for (const s of sims) await s.stop();
  }
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * One round of execs in one connection: the mean and the median of the single execs (on a
 * loaded machine the median is what a preempted exec or two do not move), CPU per exec.
 */
interface ExecLoop {
  msPerExec: number;
  medianMs: number;
  cpuMsPerExec: number;
}

/** hil: open the board, warm up, `n` execs of `pass` in that one connection, close. */
async function hilExecLoop(connection: string, profile: string, warmup: number, n: number): Promise<ExecLoop> {
  const d = await openDevice({ connection, profile });
  try {
    for (let i = 0; i < warmup; i++) await d.exec('pass');
    const each: number[] = [];
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const t1 = performance.now();
      await d.exec('pass');
      each.push(performance.now() - t1);
    }
    return { msPerExec: (performance.now() - t0) / n, medianMs: median(each), cpuMsPerExec: (cpuMs() - c0) / n };
  } finally {
    await d.close();
  }
}

/** mpremote's exec method re-implemented over hil's transport (when real mpremote is not at hand). */
async function reimplementedExecLoop(connection: string, profile: string, warmup: number, n: number): Promise<ExecLoop> {
  const d = (await openDevice({ connection, profile })) as ReplDevice;
  try {
    await mpremoteExecLoop(d.transport, warmup);
    const c0 = cpuMs();
    const t0 = performance.now();
    await mpremoteExecLoop(d.transport, n);
    const ms = (performance.now() - t0) / n;
    return { msPerExec: ms, medianMs: ms, cpuMsPerExec: (cpuMs() - c0) / n };
  } finally {
    await d.close();
  }
}

function makeTree(dir: string, modelBytes: number, models: number): void {
  for (let i = 0; i < models; i++) {
    const sub = join(dir, 'models', `set${i % 3}`);
    mkdirSync(sub, { recursive: true });
    const m = randomBytes(modelBytes);
    m.set([0x1c, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33]);
    writeFileSync(join(sub, `net${i}.tflite`), m);
    writeFileSync(join(sub, `net${i}.txt`), `background\nclass${i}\n`);
  }
}

/** HIL_SPEED_ONLY=exec-round-trip,whole-process: only those groups (all when unset). */
function wanted(name: string): boolean {
  const only = process.env.HIL_SPEED_ONLY?.split(',').map((s) => s.trim()).filter(Boolean);
  return !only?.length || only.includes(name);
}

/** One group of figures; a group that fails is one FAILED row, the others still run. */
async function section(figures: Figure[], name: string, log: (l: string) => void, f: () => Promise<void>): Promise<void> {
  if (!wanted(name)) return;
  const from = figures.length;
  try {
    await f();
    for (const x of figures.slice(from)) log(`${x.name}: ${x.value.toFixed(3)} ${x.unit}${x.reference ? ` | ${x.reference.name}: ${x.reference.value.toFixed(3)} ${x.reference.unit}` : ''}${x.ratio === undefined ? '' : ` | ratio ${x.ratio.toFixed(2)}`}`);
  } catch (e) {
    const msg = ((e as Error)?.message ?? String(e)).split('\n')[0]!.replace(/\|/g, '/');
    figures.push({ name: `speed.${name} FAILED: ${msg}`, value: NaN, unit: '' });
  }
}

export async function run(ctx: BenchContext): Promise<Figure[]> {
  const figures: Figure[] = [];
  const log = (l: string) => ctx.log(l);
  const fw = process.env.HIL_QEMU_FIRMWARE && existsSync(process.env.HIL_QEMU_FIRMWARE) ? process.env.HIL_QEMU_FIRMWARE : undefined;
  const mpSrc = process.env.HIL_MPREMOTE_SRC && existsSync(join(process.env.HIL_MPREMOTE_SRC, 'mpremote')) ? process.env.HIL_MPREMOTE_SRC : undefined;
  const hil = join(ctx.root, 'bin', 'hil.js');
  const where = fw ? 'QEMU mps2-an385' : 'simulated board';
  const profileName = fw ? 'qemu-mps2-an385' : 'openmv-h7';
  const profile = loadProfile(profileName);

  // The board for the round-trip and whole-process figures, holding a small image (skip-if-same).
  const image = flatRomfs([{ name: 'model.tflite', data: randomBytes(64 * 1024) }, { name: 'labels.txt', data: Buffer.from('a\nb\n') }], profile.align.models);
  const imagePath = join(ctx.tmpDir, 'same.img');
  writeFileSync(imagePath, image);
  let qemu: QemuBoard | undefined;
  let sim: SimBoard | undefined;
  let pty: string;
  let ptyHeld: number | undefined;
  if (fw) {
    qemu = await QemuBoard.start({ profile, firmware: fw, image: imagePath });
    pty = qemu.ptyPath;
    // Held open (never read) between the processes measured: QEMU polls a pty nobody holds only
    // once a second for a new opener, which would add up to 1 s to every process's connect (a
    // USB board has no such delay) and hide hil's own costs in that noise.
    ptyHeld = openSync(pty, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  } else {
    sim = await startSim({ profile, link: 'pty', image });
    pty = sim.connection;
  }
  try {
    await section(figures, 'exec-round-trip', log, async () => {
    ctx.log(`exec round trip on ${where} (${pty}), ${mpSrc ? 'real mpremote' : "mpremote's method re-implemented"}`);
    const driver = mpSrc ? new MpremoteDriver(ctx.root, mpSrc, pty) : undefined;
    try {
      const hilCpu: number[] = [];
      const refCpu: number[] = [];
      const means: [number, number][] = [];
      const rt = await interleaved(
        ROUNDS,
        async () => {
          const r = await hilExecLoop(pty, profileName, 5, EXECS);
          hilCpu.push(r.cpuMsPerExec);
          means.push([r.msPerExec, NaN]);
          return r.medianMs;
        },
        async () => {
          const r = driver ? await driver.run(5, EXECS) : await reimplementedExecLoop(pty, profileName, 5, EXECS);
          refCpu.push(r.cpuMsPerExec);
          means[means.length - 1]![1] = r.msPerExec;
          return r.medianMs;
        },
      );
      // The warm-up pair is not counted by interleaved(): nor here.
      const meanRatio = median(means.slice(1).map(([a, b]) => a / b));
      const refName = driver ? "real mpremote's SerialTransport" : "mpremote's exec method re-implemented (HIL_MPREMOTE_SRC not set)";
      figures.push({
        name: `speed.exec-round-trip (${where}, one connection, ${ROUNDS} rounds of ${EXECS}: median exec, median of the rounds' ratios)`, value: rt.a, unit: 'ms',
        reference: { name: refName, value: rt.b, unit: 'ms' }, ratio: rt.ratio, goal: '<= 1.0x mpremote', met: rt.ratio <= 1.0,
        note: `ratio of the rounds' mean execs ${meanRatio.toFixed(2)}`,
      });
      figures.push({
        name: 'speed.exec-host-cpu (per exec)', value: median(hilCpu), unit: 'ms',
        reference: { name: `${driver ? 'real mpremote' : 're-implemented method'} CPU per exec`, value: median(refCpu), unit: 'ms' },
        ratio: median(hilCpu) / median(refCpu),
      });
    } finally {
      driver?.close();
    }
    });

    await section(figures, 'whole-process', log, async () => {
    ctx.log('whole processes: hil flash (identical image) vs hil exec pass');
    const dev = ['-d', pty, '-p', profileName];
    const reflash = await interleaved(7, wholeProcess('node', [hil, 'flash', imagePath, ...dev]), wholeProcess('node', [hil, 'exec', ...dev, 'pass']));
    figures.push({
      name: `speed.reflash-identical, whole \`hil flash\` process (${where})`, value: reflash.a, unit: 'ms',
      reference: { name: 'bare `hil exec pass` process', value: reflash.b, unit: 'ms' }, ratio: reflash.ratio, goal: '<= 1.2x', met: reflash.ratio <= 1.2,
    });
    const node0 = wholeProcess('node', ['-e', '0']);
    const version = await interleaved(5, wholeProcess('node', [hil, '--version']), node0);
    figures.push({ name: 'speed.startup `hil --version`', value: version.a, unit: 'ms', reference: { name: '`node -e 0`', value: version.b, unit: 'ms' }, ratio: version.ratio });
    const execStart = await interleaved(5, wholeProcess('node', [hil, 'exec', ...dev, 'pass']), node0);
    figures.push({ name: `speed.startup+run \`hil exec pass\` (${where})`, value: execStart.a, unit: 'ms', reference: { name: '`node -e 0`', value: execStart.b, unit: 'ms' }, ratio: execStart.ratio });
    });
  } finally {
    if (ptyHeld !== undefined) closeSync(ptyHeld);
    await qemu?.stop();
    await sim?.stop();
  }

  await section(figures, 'image-build', log, async () => {
  ctx.log('hil image build vs mpremote romfs build (32 MiB tree)');
  const tree = join(ctx.tmpDir, 'tree');
  makeTree(tree, 4 * 1024 * 1024, 8);
  const hilBuild = (extra: string[]) => wholeProcess('node', [hil, 'image', 'build', tree, '-o', join(ctx.tmpDir, 'hil.img'), ...extra]);
  const ref = mpSrc
    ? { name: 'real `mpremote romfs build`', run: wholeProcess(python(), ['-m', 'mpremote', 'romfs', '-o', join(ctx.tmpDir, 'mp.img'), 'build', tree], { cwd: mpSrc }) }
    : { name: '`node -e 0` (HIL_MPREMOTE_SRC not set: no mpremote)', run: wholeProcess('node', ['-e', '0']) };
  for (const [label, extra] of [['unchanged tree, caches on (as rerun)', []], ['--no-cache (everything rebuilt)', ['--no-cache']]] as const) {
    const b = await interleaved(5, hilBuild([...extra]), ref.run);
    figures.push({
      name: `speed.image-build 32 MiB tree, whole process, ${label}`, value: b.a, unit: 'ms',
      reference: { name: ref.name, value: b.b, unit: 'ms' }, ratio: b.ratio, goal: mpSrc ? '<= 1.0x' : undefined, met: mpSrc ? b.ratio <= 1.0 : undefined,
    });
  }

  });

  await section(figures, 'flash', log, async () => {
  ctx.log('flash of an incompressible model: link raw rate, mpremote method');
  const boards = [{ label: 'h7', profile: 'openmv-h7', segment: 0, imageBytes: 96 * 1024, mpremote: true, conn: 'sim:openmv-h7' }];
  if (fw) boards.unshift({ label: 'qemu-an385', profile: 'qemu-mps2-an385', segment: 0, imageBytes: 256 * 1024, mpremote: false, conn: 'qemu' });
  for (const b of boards) {
    const p = loadProfile(b.profile);
    const d = await openDevice({ connection: b.conn, profile: p, firmware: fw });
    try {
      for (const f of await flashFigures(d, b, p)) {
        if (/round-trips|reflash/.test(f.name)) continue;
        figures.push({ ...f, name: `speed.${f.name}`, note: [f.note, b.conn === 'qemu' ? 'QEMU' : 'simulated board', /mpremote/.test(f.name) ? "mpremote's method re-implemented" : ''].filter(Boolean).join('; ') });
      }
    } finally {
      await d.close();
    }
  }

  });

  await section(figures, 'bench16', log, async () => {
  ctx.log(`hil CPU with 16 simulated boards in parallel: ${BENCH16_RUNS} runs after a warm-up, each in a fresh process on fresh boards`);
  const runs: { cpuMs: number; mainMs: number | null; wallMs: number }[] = [];
  for (let i = 0; i <= BENCH16_RUNS; i++) {
    const r = await bench16Run(ctx.root, join(ctx.tmpDir, `bench16-${i}`));
    if (i > 0) runs.push(r); // the first warms the disk cache and the .mpy cache: not counted
  }
  const cpu = median(runs.map((r) => r.cpuMs));
  const wall = median(runs.map((r) => r.wallMs));
  const ratio = median(runs.map((r) => r.cpuMs / r.wallMs));
  const mains = runs.map((r) => r.mainMs).filter((x): x is number => x !== null);
  figures.push({
    name: `speed.bench16 hil CPU, whole process (thread pool included${mains.length ? `; main thread ${Math.round(median(mains))} ms` : ''}; median of ${BENCH16_RUNS} fresh processes, ratios ${runs.map((r) => (r.cpuMs / r.wallMs).toFixed(3)).join(', ')})`,
    value: cpu, unit: 'ms',
    reference: { name: 'wall', value: wall, unit: 'ms' }, ratio, goal: '<= 0.05 of wall', met: ratio <= 0.05,
  });
  });

  if (fw) await section(figures, 'model-load', log, async () => {
    ctx.log('model-load on QEMU, boot included');
    const t0 = performance.now();
    const r = await runScenarios({ scenarios: [join(ctx.root, 'scenarios', 'model-load')], device: 'qemu', profile: 'qemu-mps2-an385', cwd: ctx.root, lockDir: join(ctx.tmpDir, 'locks') });
    const ms = performance.now() - t0;
    if (r.exitCode !== 0) throw new Error(`model-load on QEMU exited ${r.exitCode}`);
    figures.push({ name: 'speed.model-load on QEMU, boot included', value: ms, unit: 'ms', goal: '<= 1500 ms', met: ms <= 1500 });
  });
  return figures;
}
