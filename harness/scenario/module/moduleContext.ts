/**
 * What a custom check module is given: the CheckContext every check gets, plus helpers to run its
 * own board Python the way hil's checks do. A check keeps its board code in real `.py` files next
 * to it (so it can be read and tested as Python), loads them with `ctx.program(file, params)`
 * (`_P` bound to the JSON parameters, as in harness/board/program.ts) or runs them as a sealed
 * query with `ctx.query(file, params)`: the file calls `_hil_answer(value)` once, and the value
 * arrives checksummed (a byte damaged on the link is an infrastructure error, never a verdict).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { paramsLine, type BoardParams } from '../../board/program.js';
import { querySealed, type SealedAnswer } from '../../device/sealed.js';
import type { CheckContext } from '../context.js';

export interface QueryOptions {
  /**
   * True (default) when the program only reads: a damaged answer is asked for once more. Set
   * false for code with side effects on the board (it is then never sent twice).
   */
  rereadable?: boolean;
  /** Deadline in ms (default: the scenario's checkTimeoutMs). */
  timeoutMs?: number;
}

export interface ModuleCheckContext extends CheckContext {
  /** The check module's own folder (its `.py` files are found relative to it). */
  readonly dir: string;
  /** The source of `file` (relative to `dir`, staying inside it) with `_P` bound to `params`. */
  program(file: string, params?: BoardParams): string;
  /** Run `file` on the board as a sealed query; resolves to what it passed to `_hil_answer`. */
  query<T = unknown>(file: string, params?: BoardParams, opts?: QueryOptions): Promise<SealedAnswer<T>>;
}

export function moduleContext(ctx: CheckContext, modulePath: string): ModuleCheckContext {
  const dir = dirname(modulePath);
  const program = (file: string, params: BoardParams = {}): string => {
    const p = resolve(dir, file);
    const rel = relative(dir, p);
    if (isAbsolute(file) || rel.startsWith('..')) throw new ConfigError(`${modulePath}: board program '${file}' must be a path inside ${dir}`);
    let src: string;
    try {
      src = readFileSync(p, 'utf8');
    } catch (e) {
      throw new ConfigError(`${p}: board program of ${modulePath} not readable (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
    return paramsLine(params) + src;
  };
  return {
    ...ctx,
    dir,
    program,
    query: <T>(file: string, params: BoardParams = {}, opts: QueryOptions = {}) =>
      querySealed<T>(ctx.device, program(file, params), {
        phase: `check ${relative(dir, resolve(dir, file))}`,
        timeoutMs: opts.timeoutMs ?? ctx.timeoutMs,
        idempotent: opts.rereadable ?? true,
      }),
  };
}
