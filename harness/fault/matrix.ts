/**
 * The fault matrix: `hil flash` (as the library call flashImage, with its own retries) driven
 * through the fault-injecting link against the simulated board, with one fault per run placed in
 * a phase of the protocol. Each run ends as: passed (image hash in the sim's partition file, read
 * independently of hil, equals the image's), an infrastructure error (exit 3, with its phase),
 * another typed error, a FALSE PASS (hil said success but the partition does not hold the image),
 * or a HANG (the outer watchdog fired first). Nothing here trusts hil's own verdict.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FaultProxy } from './faultProxy.js';
import type { Action, FaultRule, Trigger } from './rule.js';
import { seededRandom } from './rule.js';
import { HilError } from '../errors.js';
import { loadProfile } from '../profile/profile.js';
import { startSim } from '../sim/index.js';
import { openDevice } from '../device/index.js';
import { flashImage } from '../flash/index.js';

export interface MatrixPhase {
  name: string;
  when: Trigger;
}

export interface RunOutcome {
  phase: string;
  action: string;
  result: 'passed' | 'infra' | 'other-error' | 'false-pass' | 'hang';
  errorPhase?: string;
  message?: string;
  ms: number;
}

export interface MatrixCell {
  phase: string;
  runs: number;
  passed: number;
  infra: number;
  otherErrors: number;
  falsePasses: number;
  hangs: number;
  worstMs: number;
}

/** Where each fault lands, expressed as a trigger on the wire. */
export function flashPhases(imageBytes: number): MatrixPhase[] {
  return [
    { name: 'connect', when: { kind: 'bytes', dir: 'toBoard', at: 0 } },
    { name: 'raw-REPL entry', when: { kind: 'pattern', dir: 'toBoard', pattern: '\x01' } },
    { name: 'mid-exec', when: { kind: 'pattern', dir: 'toHost', pattern: 'OK', nth: 2 } },
    { name: 'mid-transfer', when: { kind: 'bytes', dir: 'toBoard', at: 6000 + Math.floor(imageBytes / 2) } },
    { name: 'verification', when: { kind: 'pattern', dir: 'toBoard', pattern: 'hashlib.sha256', nth: 1 } },
    { name: 'reset', when: { kind: 'pattern', dir: 'toHost', pattern: 'soft reboot' } },
  ];
}

const ACTIONS: Action[] = [{ kind: 'drop' }, { kind: 'corrupt', count: 3 }, { kind: 'stall', ms: 4000 }, { kind: 'duplicate', count: 4 }, { kind: 'truncate', count: 16 }];

export interface MatrixOptions {
  profile?: string;
  image: string;
  repeats: number;
  seed?: number;
  /** Watchdog per run (ms); a run still going then is a hang. */
  watchdogMs?: number;
  /** hil's own deadline per operation (ms). */
  timeoutMs?: number;
  phases?: string[];
  log?: (line: string) => void;
}

export async function runFlashMatrix(opts: MatrixOptions): Promise<{ cells: MatrixCell[]; outcomes: RunOutcome[] }> {
  const profile = loadProfile(opts.profile ?? 'openmv-h7');
  const image = new Uint8Array(readFileSync(opts.image));
  const want = createHash('sha256').update(image).digest('hex');
  const rand = seededRandom(opts.seed ?? 1);
  const outcomes: RunOutcome[] = [];
  const cells: MatrixCell[] = [];
  const phases = flashPhases(image.length).filter((p) => !opts.phases || opts.phases.includes(p.name));
  for (const phase of phases) {
    const cell: MatrixCell = { phase: phase.name, runs: 0, passed: 0, infra: 0, otherErrors: 0, falsePasses: 0, hangs: 0, worstMs: 0 };
    for (let i = 0; i < opts.repeats; i++) {
      const action = ACTIONS[Math.floor(rand() * ACTIONS.length)]!;
      const rule: FaultRule = { when: phase.when, do: action };
      const sim = await startSim({ profile, link: 'tcp' });
      const proxy = await FaultProxy.start({ upstream: sim.connection, rules: [rule], seed: Math.floor(rand() * 2 ** 31) });
      const t0 = Date.now();
      let out: RunOutcome;
      let timer: NodeJS.Timeout | undefined;
      const watchdog = new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), opts.watchdogMs ?? 90_000)));
      const work = (async (): Promise<RunOutcome> => {
        let device;
        try {
          device = await openDevice({ connection: proxy.connection, profile, timeoutMs: opts.timeoutMs ?? 10_000 });
          await flashImage(device, { image, imageName: 'matrix.img', force: true });
          const part = readFileSync(sim.romfsFile).subarray(0, image.length);
          const got = createHash('sha256').update(part).digest('hex');
          return { phase: phase.name, action: action.kind, result: got === want ? 'passed' : 'false-pass', ms: 0 };
        } catch (e) {
          const he = e instanceof HilError ? e : undefined;
          const isInfra = he?.exitCode === 3;
          return {
            phase: phase.name,
            action: action.kind,
            result: isInfra ? 'infra' : 'other-error',
            ...(isInfra && 'phase' in he! ? { errorPhase: String((he as unknown as { phase: string }).phase) } : {}),
            message: `${(e as Error)?.name}: ${String((e as Error)?.message ?? e).split('\n')[0]}`,
            ms: 0,
          };
        } finally {
          await device?.close().catch(() => undefined);
        }
      })();
      const r = await Promise.race([work, watchdog]);
      clearTimeout(timer);
      out = r === 'hang' ? { phase: phase.name, action: action.kind, result: 'hang', ms: 0 } : r;
      out.ms = Date.now() - t0;
      await proxy.close();
      await sim.stop();
      outcomes.push(out);
      cell.runs++;
      cell.worstMs = Math.max(cell.worstMs, out.ms);
      if (out.result === 'passed') cell.passed++;
      else if (out.result === 'infra') cell.infra++;
      else if (out.result === 'false-pass') cell.falsePasses++;
      else if (out.result === 'hang') cell.hangs++;
      else cell.otherErrors++;
      opts.log?.(`${phase.name} #${i + 1} ${action.kind}: ${out.result}${out.errorPhase ? ` (phase ${out.errorPhase})` : ''} ${out.ms} ms${out.message ? ` — ${out.message}` : ''}`);
    }
    cells.push(cell);
  }
  return { cells, outcomes };
}

export function matrixTable(cells: MatrixCell[]): string {
  const rows = ['| phase | runs | passed (after retry) | infra errors (exit 3) | other errors | false passes | hangs | worst time |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const c of cells) rows.push(`| ${c.phase} | ${c.runs} | ${c.passed} | ${c.infra} | ${c.otherErrors} | ${c.falsePasses} | ${c.hangs} | ${(c.worstMs / 1000).toFixed(1)} s |`);
  return rows.join('\n');
}
