/**
 * Run a board-side snippet that prints one JSON line as its last output, and parse that line.
 * Output before it (warnings, boot noise) is ignored; anything unparseable is an InfraError
 * naming the device.
 */
import type { Device } from '../device/types.js';
import { InfraError } from '../errors.js';

export async function execJson<T>(device: Device, code: string, phase: string, timeoutMs = 20_000): Promise<T> {
  const out = await device.exec(code, { timeoutMs });
  const lines = out.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
  const last = lines[lines.length - 1];
  if (last === undefined) throw new InfraError(`${device.name}: no answer from the board during ${phase}`, phase);
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new InfraError(`${device.name}: unexpected answer during ${phase}: ${last.slice(0, 120)}`, phase);
  }
}

/** A Python int literal for a JS number (integers only). */
export function pyInt(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not an integer: ${n}`);
  return String(n);
}
