/**
 * Where the history lives: `--history PATH|postgres://...`, else $HIL_HISTORY, else
 * `$XDG_STATE_HOME/hil/history.sqlite` (fallback `~/.local/state/hil/history.sqlite`).
 * `--no-history`, or HIL_HISTORY set to `off`, records nothing.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export type HistoryLocation = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string } | { kind: 'off' };

export function defaultHistoryFile(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(state, 'hil', 'history.sqlite');
}

export const isPostgresUrl = (s: string) => /^postgres(ql)?:\/\//i.test(s);

/** `flag`: the --history value; `off`: --no-history was given. */
export function resolveHistoryLocation(opts: { flag?: string; off?: boolean; env?: NodeJS.ProcessEnv; cwd?: string } = {}): HistoryLocation {
  const env = opts.env ?? process.env;
  if (opts.off) return { kind: 'off' };
  const v = opts.flag ?? (env.HIL_HISTORY && env.HIL_HISTORY.length ? env.HIL_HISTORY : undefined);
  if (v === undefined) return { kind: 'sqlite', file: defaultHistoryFile(env) };
  if (v === 'off') return { kind: 'off' };
  if (isPostgresUrl(v)) return { kind: 'postgres', url: v };
  return { kind: 'sqlite', file: resolve(opts.cwd ?? process.cwd(), v) };
}

import { redactUrl } from '../redactUrl.js';

export { redactUrl };

export function describeLocation(l: HistoryLocation): string {
  return l.kind === 'sqlite' ? l.file : l.kind === 'postgres' ? redactUrl(l.url) : 'off';
}

/**
 * The --history / --no-history option as yargs hands it over (a string, false, or a list when
 * given more than once): one location, or a one-line reason for UsageError.
 */
export function historyFlag(v: unknown): { flag?: string; off?: boolean } | string {
  if (v === undefined) return {};
  if (Array.isArray(v)) return v.includes(false) ? 'give --history or --no-history, not both' : '--history given more than once';
  if (v === false) return { off: true };
  if (typeof v !== 'string' || v.trim() === '') return '--history needs a SQLite file or a postgres:// URL';
  return { flag: v };
}
