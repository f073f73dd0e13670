/** One line of partition usage, e.g. `usage: 92.4 KiB of 128.0 KiB (72.2 %), 36.6 KiB free`. */
import type { BuildUsage } from './build.js';

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export function formatUsage(u: BuildUsage): string {
  if (u.size === undefined) return `usage: ${kib(u.used)} (${u.used} bytes; no partition size given)`;
  const pct = ((u.used / u.size) * 100).toFixed(1);
  const from = u.sizeFrom === 'profile' ? ' (profile)' : u.sizeFrom === 'config' ? ' (config)' : '';
  return `usage: ${kib(u.used)} of ${kib(u.size)}${from} (${pct} %), ${kib(Math.max(0, u.size - u.used))} free`;
}
