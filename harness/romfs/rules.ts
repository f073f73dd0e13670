/**
 * Alignment rules: which alignment each file's data gets, counted from the start of the image
 * (build lays data out so that partition origin + offset is aligned). Globs match as glob.ts
 * says (basename, any number of dots, any case); a file whose content is a model gets the model
 * alignment whatever its name (models.ts, the one model rule).
 */
import { globMatches } from './glob.js';
import type { BoardProfile } from '../profile/profile.js';
import { UsageError } from '../errors.js';
import { DEFAULT_MODEL_GLOBS, isModelFile } from './models.js';

export interface AlignRule {
  glob: string;
  align: number;
}

export interface AlignRules {
  /** Checked from last to first: later rules (overrides) win. */
  rules: AlignRule[];
  /** Alignment of files no rule matches. */
  default: number;
  /** Alignment of models (by name or content, models.ts): the profile's, else 16. */
  models?: number;
  /** Globs that name models (the profile's, else *.tflite), matched case-insensitively. */
  modelGlobs?: string[];
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
  const modelGlobs = profile ? [...profile.models] : [...DEFAULT_MODEL_GLOBS];
  const models = profile?.align.models ?? 16;
  const base: AlignRule[] = modelGlobs.map((glob) => ({ glob, align: models }));
  const extra = overrides.map((o) => (typeof o === 'string' ? parseAlignOverride(o) : o));
  for (const r of extra) if (!isPow2(r.align)) throw new UsageError(`alignment for '${r.glob}' must be a power of two from 1 to ${MAX_ALIGN} (got ${r.align})`);
  return { rules: [...base, ...extra], default: profile?.align.default ?? 4, models, modelGlobs };
}

export { globMatches };

/**
 * The alignment the file at `path` must get: the last rule whose glob matches (any case), else
 * the model alignment when its content is a model (`head`: its first bytes; the one model rule,
 * models.ts), else the default.
 */
export function alignFor(rules: AlignRules, path: string, head?: Uint8Array): number {
  for (let i = rules.rules.length - 1; i >= 0; i--) {
    const r = rules.rules[i]!;
    if (globMatches(r.glob, path)) return r.align; // a rule that names the file wins (overrides included)
  }
  if (head && isModelFile({ models: rules.modelGlobs ?? DEFAULT_MODEL_GLOBS }, path, head)) return Math.max(rules.default, rules.models ?? 16);
  return rules.default;
}

/** True when the file is a model by the one rule (name in any case, or content when `data` is given). */
export function isModelPath(profile: BoardProfile, path: string, data?: Uint8Array): boolean {
  return isModelFile(profile, path, data);
}
