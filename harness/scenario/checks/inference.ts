/**
 * models.inference: every model loaded with `ml.Model` and run on a deterministic input (zeros,
 * or the scenario's `inputs:`), one model per board round trip with the heap collected between
 * (harness/board/scenario/inference.py); its outputs compared with the scenario's golden file
 * (`golden/<model>.json`, exact or within `tolerance:`); then, with two models or more, all of
 * them again in reverse order: an output that differs between the passes is the stale-cache
 * class (openmv/openmv PR 3276: the next model ran the previous one's network). First-inference
 * and steady latency per model go into the details and the data.
 *
 * A board that dies while loading or running a model (the firmware's fault banner on the
 * console) is this check's FAIL, "loading X crashed the board: HardFault ...", with the console
 * text; hil brings the board back (a power cycle where it has one: QEMU restarted, the simulated
 * board, the bench's `power:` switch) and goes on with the other models and checks, once the
 * board that answers again is the same board (its unique id, read again: crash.ts
 * checkSameBoardAgain); another board is this check's error (class board, naming both ids), and
 * nothing more is run or written on it (runScenario, runBench stop). A board that
 * reboots under a model (stm32's default on a HardFault: crash.ts) is FAIL "loading X reset the
 * board", with the console text; it came back by itself.
 *
 * Statuses: failed (a model failed to load or run, crashed the board, gave outputs of the wrong
 * shape, differing from golden or between the passes), simulated (the simulated board: its
 * outputs are not the network's, nothing is compared with golden), skipped (no `ml`, or no
 * input can be made on this firmware), passed (a real board ran every model and its outputs
 * agree with golden, or were recorded with --record-golden).
 */
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { CheckContext, ImageFile } from '../context.js';
import type { ModelInput, ModelsOptions } from '../definition.js';
import { runProbe, scenarioProgram } from '../probe.js';
import type { CheckResult } from '../result.js';
import { checkSameBoardAgain, consoleBeforeCtrlB, consoleSince, findFault, findReboot, findSilentFault, lastStage, markConsole, rebootedSince, recoverBoard, watchForFault, type BackAgain, type BoardFault, type Recovery } from './crash.js';
import { LinkClosedError, LinkGoneError, LinkOpenError, LinkTimeoutError } from '../../transport/errors.js';
import { NotRunError } from '../../device/resend.js';
import { oneLine } from '../../errors.js';
import { OtherBoardError } from '../../device/identify.js';
import { firstDifference, goldenName, readGolden, writeGolden, type GoldenFile, type ModelOutputs } from './golden.js';

/** Values sent back per output (more are counted, not sent). */
export const MAX_VALUES = 4096;

/** What the board answers for one model (inference.py). */
export interface ModelAnswer {
  ml: boolean;
  why?: string;
  path?: string;
  repr?: string;
  simulated?: boolean;
  input?: number[][];
  inputDtype?: string[];
  want?: number[][];
  outputDtype?: string[];
  got?: number[][];
  values?: number[][];
  counts?: number[];
  loadUs?: number | null;
  firstUs?: number | null;
  steadyUs?: (number | null)[];
  stage?: 'load' | 'input' | 'predict';
  tb?: string;
  noInput?: string;
}

/** `mark`: left in the REPL's globals as the program starts, to tell a board that rebooted under it (crash.ts rebootedSince). */
export function inferenceProbe(path: string, input: ModelInput, runs: number, root = '/rom', mark = ''): string {
  return scenarioProgram('inference', { root, path, input, runs, maxValues: MAX_VALUES, ...(mark ? { mark } : {}) });
}

type Run = { kind: 'answer'; a: ModelAnswer } | { kind: 'crash'; fault: BoardFault; recovery: Recovery };

/** The link's and the board's own faults while it is away: asked again until the deadline. */
const AWAY = [LinkClosedError, LinkGoneError, LinkTimeoutError, LinkOpenError, NotRunError];

/**
 * After the link dropped under a model: what the board says once it answers again (its uptime,
 * whether `mark` is still in its RAM: board/scenario/uptime.py), asked until `deadline` (ms since
 * the epoch). A cam that reset re-enumerates
 * and boots before it answers, which takes seconds and more on a loaded host; behind a socket
 * (ser2net, the simulated board) the connection may even be accepted before the board is there,
 * so one connect's own budget is not enough. `why`: the last failure, when it never answered.
 */
async function backAgain(ctx: CheckContext, mark: string, deadline: number): Promise<{ back?: BackAgain; why: string }> {
  let why = '';
  for (let i = 1; ; i++) {
    try {
      const left = Math.max(1000, deadline - Date.now());
      const { value } = await runProbe<{ ms: number | null; mark: string | null }>(ctx.device, scenarioProgram('uptime', {}), 'inference', left);
      return { back: { uptimeMs: typeof value.ms === 'number' ? value.ms : null, markKept: value.mark === mark }, why: '' };
    } catch (e) {
      why = oneLine(e);
      if (!AWAY.some((c) => e instanceof c) || Date.now() >= deadline) return { why };
      ctx.log(`inference: the board does not answer yet after the link dropped (attempt ${i}: ${why}); asking again`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One model on the board: its answer, or the crash it caused (the board then recovered). */
async function runModel(ctx: CheckContext, path: string, input: ModelInput, runs: number): Promise<Run> {
  const { device } = ctx;
  const mark = markConsole(device.transcript);
  const watch = watchForFault(device.transcript, mark);
  const ramMark = randomBytes(8).toString('hex');
  // Sent once: after a link fault the model is not run again behind hil's back (it may be what
  // killed the board).
  const probe = runProbe<ModelAnswer>(device, inferenceProbe(path, input, runs, '/rom', ramMark), 'inference', ctx.timeoutMs, { rereadable: false });
  try {
    const r = await Promise.race([probe.then((v) => ({ kind: 'answer' as const, a: v.value })), watch.fault.then((fault) => ({ kind: 'fault' as const, fault }))]);
    if (r.kind === 'answer') return r;
    ctx.log(`inference: ${path}: the board printed a fault banner (${r.fault.banner}); recovering it`);
    return { kind: 'crash', fault: r.fault, recovery: await recoverBoard(device, probe) };
  } catch (e) {
    // No answer: a crash only when the firmware's fault banner is on the console,
    const text = consoleSince(device.transcript, mark);
    const fault = findFault(text) ?? (e instanceof LinkTimeoutError ? findSilentFault(text, ctx.profile.firmware.port) : undefined);
    if (fault) return { kind: 'crash', fault, recovery: await recoverBoard(device, probe) };
    // or a reset when the console shows the board rebooting, or the link dropped under a model
    // and the board answers again with a smaller uptime (stm32 resets on a HardFault: crash.ts).
    const seen = findReboot(consoleBeforeCtrlB(device.transcript, mark));
    if (!seen && !((e instanceof LinkClosedError || e instanceof LinkGoneError) && lastStage(text.replace(/\r/g, '')) !== undefined)) throw e;
    const { back, why } = await backAgain(ctx, ramMark, Date.now() + ctx.timeoutMs);
    const reset = seen ?? (back ? rebootedSince(text, back) : undefined);
    if (!reset) throw e;
    ctx.log(`inference: ${path}: the board reset (${reset.banner})`);
    let recovery: Recovery = back ? { recovered: true, how: 'it rebooted by itself and answers again' } : { recovered: false, how: `it does not answer since (${why})` };
    if (recovery.recovered) {
      // The board that answers must be the one that reset.
      try {
        await checkSameBoardAgain(device, ctx.timeoutMs);
      } catch (e3) {
        recovery = e3 instanceof OtherBoardError
          ? { recovered: false, how: e3.message, otherBoard: e3 }
          : { recovered: false, how: `it does not answer its identity query since (${oneLine(e3)})` };
      }
    }
    return { kind: 'crash', fault: reset, recovery };
  } finally {
    watch.stop();
  }
}

const ms = (us: number | null | undefined) => (typeof us === 'number' ? us / 1000 : undefined);
const median = (xs: number[]) => {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmtMs = (x: number | undefined) => (x === undefined ? '?' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
const lastLine = (tb: string) => tb.trimEnd().split(/\r?\n/).pop() ?? '';

function outputsOf(a: ModelAnswer): ModelOutputs {
  return { dtype: a.outputDtype ?? [], shape: a.got ?? [], values: a.values ?? [], counts: a.counts ?? [] };
}

function preview(values: number[][]): string {
  const v = values.map((o) => (o.length <= 8 ? JSON.stringify(o) : `[${o.slice(0, 6).join(', ')}, … ${o.length} values]`));
  return v.join(', ');
}

/** Per model, what the check found (also the check's data). */
export interface InferenceModel {
  path: string;
  input: ModelInput;
  repr?: string;
  simulated?: boolean;
  inputShape?: number[][];
  inputDtype?: string[];
  outputShape?: number[][];
  outputDtype?: string[];
  values?: number[][];
  counts?: number[];
  latency?: { loadMs?: number; firstMs?: number; steadyMs?: number; steadyRunsMs: number[] };
  golden?: 'matched' | 'differs' | 'recorded' | 'missing' | 'not compared';
  sequence?: 'same' | 'differs' | 'not run';
  /** The board died under the model: its fault handler's dump (`fault`), or it rebooted (`reset`). */
  crashed?: { stage: string; kind: 'fault' | 'reset'; banner: string; console: string[]; recovery: Recovery };
  problem?: string;
  skipped?: string;
}

/**
 * `recheck`: after a crash and a power cycle, whether the board still holds the image where it
 * was (undefined) or why not; the models after a crash are run only when it does.
 */
export async function inferenceCheck(ctx: CheckContext, opts: ModelsOptions, models: readonly ImageFile[], recheck: () => Promise<string | undefined>): Promise<CheckResult> {
  const t0 = performance.now();
  const problems: string[] = [];
  const details: string[] = [];
  const found: InferenceModel[] = [];
  let simulated = ctx.simulatedBoard;
  let gone: string | undefined; // set when the board did not come back after a crash
  let otherBoard: OtherBoardError | undefined; // set when another board answered after a crash
  const inputOf = (p: string): ModelInput => opts.inputs[p] ?? { kind: 'zeros' };
  const tolOf = (p: string) => opts.tolerance[p] ?? 0;
  const golden = (p: string) => goldenName(ctx.scenario.dir, opts.goldenDir, p);

  const crashed = (m: InferenceModel, run: Extract<Run, { kind: 'crash' }>, pass: string) => {
    const what = run.fault.stage?.path === m.path ? run.fault.stage.what : 'loading';
    const stage = what === 'running' ? 'running' : 'loading';
    const reset = run.fault.kind === 'reset';
    const problem = reset ? `${stage} ${m.path}${pass} reset the board` : `${stage} ${m.path}${pass} crashed the board: ${run.fault.banner}`;
    m.crashed = { stage, kind: run.fault.kind, banner: run.fault.banner, console: run.fault.text, recovery: run.recovery };
    problems.push(problem);
    details.push(`${problem}${reset ? ` (${run.fault.banner})` : ''}; console:`, ...run.fault.text.map((l) => `  ${l}`), `  board ${run.recovery.recovered ? 'recovered' : 'not recovered'}: ${run.recovery.how}`);
    if (run.recovery.otherBoard) otherBoard ??= run.recovery.otherBoard;
    if (!run.recovery.recovered) gone = `the board did not come back after ${m.path} crashed it (${run.recovery.how})`;
    return run.recovery.recovered;
  };
  const stillHolds = async (m: InferenceModel) => {
    const why = await recheck();
    if (why) {
      gone = `after ${m.path} crashed the board and it was brought back, it no longer holds the image (${why})`;
      details.push(`board after the crash: ${why}`);
    }
  };

  // Pass 1: each model alone.
  for (const mf of models) {
    const m: InferenceModel = { path: mf.path, input: inputOf(mf.path) };
    found.push(m);
    if (gone) {
      m.skipped = `not attempted: ${gone}`;
      details.push(`${m.path}: ${m.skipped}`);
      continue;
    }
    const run = await runModel(ctx, m.path, m.input, opts.runs);
    if (run.kind === 'crash') {
      if (crashed(m, run, '')) await stillHolds(m);
      continue;
    }
    const a = run.a;
    if (!a.ml) {
      return { name: 'models.inference', status: 'skipped', reason: a.why ?? 'no ml module', durationMs: performance.now() - t0, details: [] };
    }
    if (a.simulated) simulated = true;
    m.repr = a.repr;
    m.simulated = a.simulated;
    m.inputShape = a.input;
    m.inputDtype = a.inputDtype;
    m.outputShape = a.want;
    m.outputDtype = a.outputDtype;
    if (a.tb) {
      const p = `${m.path}: ${a.stage === 'load' ? 'ml.Model() failed' : a.stage === 'input' ? 'the input could not be made' : 'first inference failed'}: ${lastLine(a.tb)}`;
      m.problem = p;
      problems.push(p);
      details.push(`${m.path}:`, ...a.tb.trimEnd().split(/\r?\n/).map((l) => `  ${l}`));
      continue;
    }
    if (a.noInput) {
      m.skipped = a.noInput;
      details.push(`${m.path}: not run: ${a.noInput}`);
      continue;
    }
    const want = opts.outputShapes[m.path] ?? a.want;
    if (!isDeepStrictEqual(a.got, want)) {
      const p = `${m.path}: predict returned outputs of shape ${JSON.stringify(a.got)}, expected ${JSON.stringify(want)}`;
      m.problem = p;
      problems.push(p);
      continue;
    }
    m.values = a.values;
    m.counts = a.counts;
    const steady = (a.steadyUs ?? []).map(ms).filter((x): x is number => x !== undefined);
    m.latency = { loadMs: ms(a.loadUs), firstMs: ms(a.firstUs), steadyMs: median(steady), steadyRunsMs: steady };
    const cut = (a.counts ?? []).some((n, i) => n > (a.values?.[i]?.length ?? 0)) ? ` (first ${MAX_VALUES} values of each output)` : '';
    details.push(
      `${m.path}: input ${describeInput(m.input)} ${JSON.stringify(a.input)} -> output ${JSON.stringify(a.got)} ${preview(a.values ?? [])}${cut}${a.simulated ? ' (simulated: not the network\'s outputs)' : ''}; ` +
      `load ${fmtMs(m.latency.loadMs)} ms, first inference ${fmtMs(m.latency.firstMs)} ms, steady ${fmtMs(m.latency.steadyMs)} ms (median of ${steady.length})`,
    );
    // Golden outputs: compared here (a real board only), recorded after every pass agreed.
    if (a.simulated || ctx.simulatedBoard) {
      m.golden = 'not compared';
    } else if (!ctx.recordGolden) {
      const g = readGolden(opts.goldenDir, m.path);
      if (!g) {
        m.golden = 'missing';
        details.push(`${m.path}: no golden outputs (${golden(m.path)}); record them on a trusted board with hil run --record-golden`);
      } else {
        const d = firstDifference(g, outputsOf(a), tolOf(m.path));
        if (d) {
          m.golden = 'differs';
          const p = `${m.path}: output ${d.output} differs from ${golden(m.path)}: ${d.what}${tolOf(m.path) ? ` (tolerance ${tolOf(m.path)})` : ' (exact)'}`;
          m.problem = p;
          problems.push(p);
        } else {
          m.golden = 'matched';
          details.push(`${m.path}: outputs match ${golden(m.path)}${tolOf(m.path) ? ` within ${tolOf(m.path)}` : ' exactly'} (recorded on ${g.firmware.machine ?? g.firmware.profile})`);
        }
      }
    }
  }

  // Pass 2: all again in reverse order; each output must be what the model gave alone.
  const ran = found.filter((m) => m.values !== undefined);
  if (opts.sequence && ran.length >= 2 && !gone) {
    const order = [...found].reverse().filter((m) => m.values !== undefined);
    for (const [i, m] of order.entries()) {
      if (gone) break;
      const after = i === 0 ? 'first of the reverse pass' : `after ${order[i - 1]!.path}`;
      const run = await runModel(ctx, m.path, m.input, 0);
      if (run.kind === 'crash') {
        if (crashed(m, run, ` (reverse pass, ${after})`)) await stillHolds(m);
        m.sequence = 'differs';
        continue;
      }
      const a = run.a;
      if (a.tb) {
        const p = `${m.path}: in the reverse pass (${after}) ${a.stage === 'load' ? 'ml.Model() failed' : 'inference failed'}: ${lastLine(a.tb)}`;
        problems.push(p);
        m.sequence = 'differs';
        continue;
      }
      const d = firstDifference({ dtype: m.outputDtype ?? [], shape: m.outputShape ?? [], values: m.values ?? [], counts: m.counts ?? [] }, outputsOf(a));
      if (d) {
        m.sequence = 'differs';
        const p = `${m.path}: outputs differ between passes (alone, then ${after}): output ${d.output} ${d.what} (a model running another's network: stale-cache class, openmv PR 3276)`;
        problems.push(p);
      } else m.sequence = 'same';
    }
    const same = order.filter((m) => m.sequence === 'same').length;
    details.push(`reverse pass (${order.map((m) => m.path).join(', ')}): ${same} of ${order.length} models gave the same outputs as alone`);
  } else {
    for (const m of found) if (m.values !== undefined) m.sequence = 'not run';
  }

  const durationMs = performance.now() - t0;
  const data = { models: found, simulated };
  const fail = (): CheckResult => ({
    name: 'models.inference', status: 'failed', failureClass: 'product', durationMs, data,
    reason: problems[0]! + (problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''), details: [...problems, ...details],
  });
  if (otherBoard) {
    // Not a verdict on the product: the board under test is not the one there now. The crash
    // before it stays in the details; the scenario and the run stop (runScenario, runBench).
    return {
      name: 'models.inference', status: 'error', failureClass: 'board', durationMs, reason: otherBoard.message,
      details: [...problems, ...details], data: { ...data, exitCode: otherBoard.exitCode, phase: otherBoard.phase },
    };
  }
  if (problems.length > 0) {
    if (ctx.recordGolden && !simulated) details.push('golden outputs not recorded: the inference did not pass');
    return fail();
  }
  if (simulated) {
    return {
      name: 'models.inference', status: 'simulated', durationMs, data, details: ctx.recordGolden ? [...details, 'golden outputs not recorded: the simulated board runs no network'] : details,
      reason: 'simulated board: placement, format and the outcome of the model\'s bytes and address checked, the network itself was not run',
    };
  }
  if (ran.length === 0) {
    return { name: 'models.inference', status: 'skipped', durationMs, data, details, reason: found.map((m) => m.skipped).find(Boolean) ?? 'no model was run' };
  }
  if (ctx.recordGolden) {
    for (const m of ran) {
      const g: GoldenFile = {
        format: 'hil-golden/1',
        model: m.path,
        input: m.input,
        dtype: m.outputDtype ?? [],
        shape: m.outputShape ?? [],
        values: m.values ?? [],
        counts: m.counts ?? [],
        firmware: {
          profile: ctx.profile.name,
          platform: ctx.device.identity?.platform,
          machine: ctx.device.identity?.machine ?? null,
          implementation: ctx.device.identity ? `${ctx.device.identity.implementation.name ?? '?'} ${ctx.device.identity.implementation.version ?? '?'}` : null,
          release: ctx.device.identity?.uname?.release ?? null,
          version: ctx.device.identity?.uname?.version ?? null,
        },
        image: { sha256: ctx.image.sha256, source: ctx.image.source },
        recordedAt: new Date().toISOString(),
      };
      writeGolden(opts.goldenDir, g);
      m.golden = 'recorded';
      details.push(`${m.path}: golden outputs recorded in ${golden(m.path)}`);
    }
  }
  return { name: 'models.inference', status: 'passed', durationMs, details, data };
}

function describeInput(i: ModelInput): string {
  switch (i.kind) {
    case 'zeros': return 'zeros';
    case 'pattern': return `pattern(seed ${i.seed})`;
    case 'file': return `file ${i.path}`;
    case 'image': return `image ${i.path}`;
  }
}
