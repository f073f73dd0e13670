/**
 * Board-side probes: each check sends ONE Python program that does all its work on the board
 * (walk, hash, import, open) and prints one marked JSON line; the host parses that line. Output
 * printed by the code under test (module top level, entry points) may come before it and is kept.
 */
import type { Device } from '../device/types.js';
import { InfraError } from '../errors.js';

export const PROBE_MARKER = '@@hil-probe@@';

/** Python statement printing `expr` (a Python expression) as the marked JSON line. */
export function pyEmit(expr: string): string {
  return `print('\\n${PROBE_MARKER}' + json.dumps(${expr}))`;
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

export interface ProbeOutput<T> {
  value: T;
  /** What the board printed before the marked line (output of the code under test). */
  printed: string;
  /** The board's stderr (empty unless the probe itself crashed). */
  stderr: string;
}

/** Run a probe and parse its marked JSON line; a missing line is an InfraError naming device and phase. */
export async function runProbe<T>(device: Device, code: string, phase: string, timeoutMs: number): Promise<ProbeOutput<T>> {
  const { stdout, stderr } = await device.execRaw(code, { timeoutMs });
  const at = stdout.lastIndexOf(PROBE_MARKER);
  if (at < 0) {
    const why = stderr.trim() ? stderr.trim().split(/\r?\n/).slice(-1)[0] : `no answer (${JSON.stringify(stdout.slice(-120))})`;
    throw new InfraError(`${device.name}: the ${phase} probe did not complete: ${why}`, phase);
  }
  const line = stdout.slice(at + PROBE_MARKER.length).split(/\r?\n/)[0]!;
  let value: T;
  try {
    value = JSON.parse(line) as T;
  } catch {
    throw new InfraError(`${device.name}: the ${phase} probe answered something that is not JSON: ${line.slice(0, 120)}`, phase);
  }
  return { value, printed: stdout.slice(0, at).replace(/\r?\n$/, ''), stderr };
}
