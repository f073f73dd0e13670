/**
 * Alignment rules: which alignment each file's data gets, counted from the start of the image.
 * Globs match the file's basename (a glob containing `/` matches the whole path inside the
 * image) and match the whole name with any number of dots, so `*.tflite` matches
 * `person.int8.tflite` (OpenMV IDE compares the complete suffix and gets this wrong).
 */
import { minimatch } from 'minimatch';
import type { BoardProfile } from '../profile/profile.js';
import { UsageError } from '../errors.js';

export interface AlignRule {
  glob: string;
  align: number;
}

export interface AlignRules {
  /** Checked from last to first: later rules (overrides) win. */
  rules: AlignRule[];
  /** Alignment of files no rule matches. */
  default: number;
}

export const MAX_ALIGN = 4096;

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= MAX_ALIGN && (n & (n - 1)) === 0;
}

/** Parse `GLOB=N` (as given to `--align`). */
export function parseAlignOverride(spec: string): AlignRule {
  const eq = spec.lastIndexOf('=');
  if (eq <= 0) throw new UsageError(`--align '${spec}': expected GLOB=N, e.g. '*.tflite=32'`);
  const glob = spec.slice(0, eq);
  const n = Number(spec.slice(eq + 1));
  if (!isPow2(n)) throw new UsageError(`--align '${spec}': alignment must be a power of two from 1 to ${MAX_ALIGN}`);
  return { glob, align: n };
}

/** Rules for a board: its model globs at `align.models`, every other file at `align.default`, then overrides. */
export function rulesFromProfile(profile: BoardProfile | undefined, overrides: (AlignRule | string)[] = []): AlignRules {
  const base: AlignRule[] = profile ? profile.models.map((glob) => ({ glob, align: profile.align.models })) : [{ glob: '*.tflite', align: 16 }];
  const extra = overrides.map((o) => (typeof o === 'string' ? parseAlignOverride(o) : o));
  for (const r of extra) if (!isPow2(r.align)) throw new UsageError(`alignment for '${r.glob}' must be a power of two from 1 to ${MAX_ALIGN} (got ${r.align})`);
  return { rules: [...base, ...extra], default: profile?.align.default ?? 4 };
}

/** Does `glob` match the file at `path` (path inside the image, no leading slash)? */
export function globMatches(glob: string, path: string): boolean {
  const target = glob.includes('/') ? path : path.slice(path.lastIndexOf('/') + 1);
  return minimatch(target, glob, { dot: true, nocomment: true, nonegate: true });
}

/** The alignment the file at `path` must get. */
export function alignFor(rules: AlignRules, path: string): number {
  for (let i = rules.rules.length - 1; i >= 0; i--) {
    const r = rules.rules[i]!;
    if (globMatches(r.glob, path)) return r.align;
  }
  return rules.default;
}

/** True when one of the profile's model globs matches the path. */
export function isModelPath(profile: BoardProfile, path: string): boolean {
  return profile.models.some((g) => globMatches(g, path));
}
