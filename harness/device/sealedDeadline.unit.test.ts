/**
 * A sealed query's timeoutMs is the deadline of the whole query (issue 12: every wait has a
 * deadline): a board that enters the raw REPL and then never answers costs about one deadline,
 * not one per send and per asking-again (it cost 50 s for `hil exec --timeout 3`: three sends of
 * the identity query and two askings-again each, every one waiting its own deadline).
 */
import { describe, expect, it } from '@jest/globals';
import { InfraError } from '../errors.js';
import { querySealed } from './sealed.js';
import type { ExecOptions, ExecResult } from './types.js';

/** A board that takes every program and never says OK: each send fails when its own deadline ends. */
function silentBoard() {
  const given: number[] = [];
  return {
    given,
    target: {
      name: 'silent',
      execRaw(_code: string, opts?: ExecOptions): Promise<ExecResult> {
        const t = opts?.timeoutMs ?? 30_000;
        given.push(t);
        return new Promise((_, reject) => setTimeout(() => reject(new InfraError('silent: no answer within the deadline (exec-ok)', 'exec-ok')), t));
      },
    },
  };
}

describe('sealed query deadline', () => {
  it('bounds every send and every asking-again of a repeatable query together', async () => {
    const b = silentBoard();
    await expect(querySealed(b.target, '_hil_answer(1)', { phase: 'identify', idempotent: true, timeoutMs: 1500 })).rejects.toThrow(/no answer within the deadline/);
    // The first send gets the whole deadline; at most one more short send (MIN_SEND_MS) follows.
    expect(b.given[0]).toBeGreaterThan(1000);
    expect(b.given[0]).toBeLessThanOrEqual(1500);
    expect(b.given.length).toBeLessThanOrEqual(2);
    expect(b.given.slice(1).every((t) => t <= 1000)).toBe(true);
  }, 20_000);
});
