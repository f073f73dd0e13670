/**
 * Fault rules for the fault-injecting link: WHEN (a trigger) and WHAT (an action).
 * Triggers count bytes per direction, watch for a byte pattern, or fire after a time since the
 * connection opened. Randomness (corrupt positions, flipped bits) comes from a seeded PRNG so a
 * run is reproducible from its seed.
 */
export type Direction = 'toBoard' | 'toHost';

export type Trigger =
  /** Fires when this many bytes (counted from the start of the connection) have passed in `dir`. */
  | { kind: 'bytes'; dir: Direction; at: number }
  /** Fires when `pattern` has been seen in `dir` (the `nth` occurrence, default 1), then `after` more bytes. */
  | { kind: 'pattern'; dir: Direction; pattern: Uint8Array | string; nth?: number; after?: number }
  /** Fires `ms` milliseconds after the connection opened. */
  | { kind: 'time'; ms: number }
  /** Fires at once (on the next byte in either direction). */
  | { kind: 'now' };

export type Action =
  /** Cut the connection (both sides). */
  | { kind: 'drop' }
  /** Stop forwarding for `ms` milliseconds (omit for forever), buffering what arrives. */
  | { kind: 'stall'; ms?: number }
  /** Add `ms` of latency to every later chunk in the trigger's direction. */
  | { kind: 'delay'; ms: number }
  /** Flip one random bit in each of the next `count` bytes (default 1). */
  | { kind: 'corrupt'; count?: number }
  /** Send the next `count` bytes twice (default 1). */
  | { kind: 'duplicate'; count?: number }
  /** Swallow the next `count` bytes (default: everything until the connection ends). */
  | { kind: 'truncate'; count?: number };

export interface FaultRule {
  when: Trigger;
  do: Action;
  /** Apply on every connection (default false: fire once in the proxy's life). */
  everyConnection?: boolean;
  /** Fire with this probability when triggered (default 1), drawn from the seeded PRNG. */
  probability?: number;
}

/** The same seeded PRNG (mulberry32) the image fuzzing uses: one definition for the project. */
export { seededRandom } from '../romfs/mutate.js';

export function patternBytes(p: Uint8Array | string): Uint8Array {
  return typeof p === 'string' ? Buffer.from(p, 'latin1') : p;
}

/** Parses a rule list from JSON (the `--script FILE` format): `[{"when":{...},"do":{...}}]`. */
export function parseRules(text: string, file: string): FaultRule[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (!Array.isArray(v)) throw new Error(`${file}: want a JSON array of rules`);
  v.forEach((r, i) => {
    const rule = r as Partial<FaultRule>;
    if (!rule || typeof rule !== 'object' || !rule.when || !rule.do) throw new Error(`${file}: rule ${i} needs "when" and "do"`);
    if (!['bytes', 'pattern', 'time', 'now'].includes((rule.when as Trigger).kind)) throw new Error(`${file}: rule ${i}: unknown trigger kind`);
    if (!['drop', 'stall', 'delay', 'corrupt', 'duplicate', 'truncate'].includes((rule.do as Action).kind))
      throw new Error(`${file}: rule ${i}: unknown action kind`);
  });
  return v as FaultRule[];
}
