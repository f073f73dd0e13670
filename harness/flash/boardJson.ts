/**
 * Run a board-side snippet that answers with `_hil_answer(value)` (a sealed query: request and
 * answer checksummed, see device/sealed.ts) and return the value. A damaged answer or no answer is
 * an InfraError naming the device and phase; an exception on the board is a DeviceExceptionError.
 * `idempotent` snippets (reads) are asked once more when the answer arrives damaged.
 */
import type { Device } from '../device/types.js';
import { querySealed } from '../device/sealed.js';

export async function execJson<T>(device: Device, code: string, phase: string, timeoutMs = 20_000, idempotent = false): Promise<T> {
  const { value } = await querySealed<T>(device, code, { phase, timeoutMs, idempotent, crash: 'device' });
  return value;
}

/** A Python int literal for a JS number (integers only). */
export function pyInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not an integer: ${n}`);
  return String(n);
}
