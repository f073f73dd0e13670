/** `--since 7d` / `--window 14d`: a duration (`30m`, `12h`, `7d`, `2w`) or an ISO-8601 date. */
import { UsageError } from '../errors.js';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** Milliseconds of a duration like `7d`; throws UsageError naming `flag`. */
export function parseDuration(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([mhdw])$/.exec(v.trim());
  if (!m || Number(m[1]) <= 0) throw new UsageError(`${flag} must be a duration such as 30m, 12h, 7d or 2w (got ${JSON.stringify(v)})`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** The start of the window `v` names: now minus a duration, or an ISO-8601 date. */
export function parseSince(flag: string, v: string, now: Date = new Date()): Date {
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw new UsageError(`${flag}: ${JSON.stringify(v)} is not a date`);
    return new Date(t);
  }
  return new Date(now.getTime() - parseDuration(flag, v));
}
