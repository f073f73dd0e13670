/**
 * The recovery ladder: the steps hil tries, in order, on a board that ended a run with an
 * infrastructure error, stopping at the first that brings it back:
 *   1. `soft-reset`  — reach the board and soft reset it (Ctrl-D); it must answer again;
 *   2. `hard-reset`  — machine.reset(), then find the board again by its identity
 *                      (harness/device/identify.ts: the same unique id must answer);
 *   3. `power-cycle` — only when the bench file names the board's USB hub port
 *                      (`power: { uhubctl: ... }`): port off and on, then find it again.
 * A step "works" when it resolves: each step checks for itself that the board answers as the
 * same board. A step that throws failed (its one-line reason is kept); a step that is not
 * configured is skipped (and says why). Each step runs under its own deadline (the steps'
 * implementations, recover.ts, pass one to every board operation).
 */
import { oneLine } from '../errors.js';

export type LadderStepName = 'soft-reset' | 'hard-reset' | 'power-cycle';
export const LADDER_STEPS: readonly LadderStepName[] = ['soft-reset', 'hard-reset', 'power-cycle'];

export interface LadderStep {
  name: LadderStepName;
  /** Why the step cannot be tried (e.g. no `power:` in the bench file); absent: it can. */
  unavailable?: string;
  /** Try the step; resolves when the board answers again as the same board. */
  run(): Promise<void>;
}

export interface StepOutcome {
  step: LadderStepName;
  outcome: 'recovered' | 'failed' | 'skipped';
  /** One line: why it failed or was skipped. */
  detail?: string;
  durationMs: number;
}

export interface LadderResult {
  recovered: boolean;
  /** The step that brought the board back. */
  by?: LadderStepName;
  /** Every step considered, in order (none after the one that worked). */
  steps: StepOutcome[];
}

/** Runs the steps in order, stopping at the first that works. */
export async function runLadder(steps: readonly LadderStep[], log: (line: string) => void = () => {}): Promise<LadderResult> {
  const out: StepOutcome[] = [];
  for (const s of steps) {
    if (s.unavailable) {
      out.push({ step: s.name, outcome: 'skipped', detail: s.unavailable, durationMs: 0 });
      log(`recovery: ${s.name} skipped: ${s.unavailable}`);
      continue;
    }
    const t0 = performance.now();
    try {
      log(`recovery: ${s.name}`);
      await s.run();
      out.push({ step: s.name, outcome: 'recovered', durationMs: performance.now() - t0 });
      log(`recovery: ${s.name} brought the board back`);
      return { recovered: true, by: s.name, steps: out };
    } catch (e) {
      const detail = oneLine(e);
      out.push({ step: s.name, outcome: 'failed', detail, durationMs: performance.now() - t0 });
      log(`recovery: ${s.name} failed: ${detail}`);
    }
  }
  return { recovered: false, steps: out };
}

/** One line: what each step did (`soft-reset failed: ...; hard-reset failed: ...; power-cycle skipped: ...`). */
export function describeLadder(r: LadderResult): string {
  return r.steps.map((s) => (s.outcome === 'recovered' ? `${s.step} recovered it` : `${s.step} ${s.outcome}: ${s.detail}`)).join('; ');
}

/** Shorter, for a state's reason: `soft-reset failed, hard-reset failed, power-cycle skipped (no power: ...)`. */
export function briefLadder(r: LadderResult): string {
  return r.steps.map((s) => (s.outcome === 'skipped' ? `${s.step} skipped (${s.detail})` : `${s.step} ${s.outcome}`)).join(', ');
}
