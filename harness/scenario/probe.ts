/**
 * Board-side probes: each check sends ONE Python program that does all its work on the board
 * (walk, hash, import, open) and answers with one sealed JSON line (device/sealed.ts). Output
 * printed by the code under test (module top level, entry points) may come before it and is kept.
 */
import type { Device } from '../device/types.js';
import { ANSWER_MARKER, querySealed, type SealedAnswer } from '../device/sealed.js';

/** What starts a probe's answer line on the wire. */
export const PROBE_MARKER = ANSWER_MARKER;

/** Python statement answering with `expr` (a Python expression): the sealed JSON line. */
export function pyEmit(expr: string): string {
  return `_hil_answer(${expr})`;
}

/** A Python string literal for any JS string (JSON strings are valid Python literals for BMP text). */
export function pyStr(s: string): string {
  return JSON.stringify(s);
}

/** A Python literal for a JSON-like value built from strings, numbers, booleans, null, arrays, objects. */
export function pyValue(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === 'string') return pyStr(v);
  if (Array.isArray(v)) return `[${v.map(pyValue).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyStr(k)}: ${pyValue(x)}`).join(', ')}}`;
  throw new TypeError(`cannot express ${typeof v} in Python`);
}

/** Helpers every probe may use: a traceback as text. */
export const PY_PRELUDE = `import sys, json
try:
    import io as _hil_io
except ImportError:
    _hil_io = None
def _hil_tb(e):
    if _hil_io is not None and hasattr(sys, 'print_exception'):
        s = _hil_io.StringIO()
        sys.print_exception(e, s)
        return s.getvalue()
    return repr(e)
`;

export type ProbeOutput<T> = SealedAnswer<T>;

/**
 * Run a probe as a sealed query (request and answer checksummed: a byte damaged on the link is an
 * infrastructure error, never a wrong verdict) and return its answer. A probe that crashes before
 * answering is an InfraError naming device and phase. Probes only read, so a damaged answer is
 * asked for once more.
 */
export function runProbe<T>(device: Device, code: string, phase: string, timeoutMs: number): Promise<ProbeOutput<T>> {
  return querySealed<T>(device, code, { phase, timeoutMs, idempotent: true });
}
