/**
 * What one hil command took from the machine — children, temp folders, leases, open boards — and
 * its release on every way out. The CLI makes one Scope per command and passes it down; each
 * layer that takes something registers how to give it back (`defer`). `release()` gives back
 * everything, newest first, each step on its own (one failing never skips the others);
 * `releaseNow()` is the synchronous last resort (SIGKILL children, remove folders, unlink locks)
 * for when the deadline has passed or the process is exiting. `abort()` is how a signal reaches
 * the work: `signal` aborts, and long waits stop.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { makeTempDir } from './tempDir.js';

export interface Held {
  /** Give it back now (idempotent), and forget it. */
  release(): Promise<void>;
}

interface Entry {
  what: string;
  release: () => Promise<void> | void;
  now?: () => void;
  done: boolean;
}

/** The exit code a shell expects after a signal: 128 + its number. */
export const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

export class Scope {
  private readonly ac = new AbortController();
  private readonly entries: Entry[] = [];
  private readonly pending = new Set<Entry>();
  private releasing: Promise<void> | null = null;
  /** The signal that interrupted the command, when one did. */
  interruptedBy: NodeJS.Signals | null = null;

  get signal(): AbortSignal {
    return this.ac.signal;
  }

  get aborted(): boolean {
    return this.ac.signal.aborted;
  }

  /** Stop the work (a signal arrived): `signal` aborts with the signal's name as reason. */
  abort(sig: NodeJS.Signals): void {
    if (this.interruptedBy) return;
    this.interruptedBy = sig;
    this.ac.abort(sig);
  }

  /**
   * Register how to give something back. `release` may be async; `now` is the synchronous last
   * resort (default: none). Returns a handle that releases it early.
   */
  defer(what: string, release: () => Promise<void> | void, now?: () => void): Held {
    const e: Entry = { what, release, now, done: false };
    this.entries.push(e);
    return {
      release: async () => {
        if (e.done) return;
        e.done = true;
        this.forget(e);
        this.pending.add(e);
        try {
          await release();
        } finally {
          this.pending.delete(e);
        }
      },
    };
  }

  /** A temp folder `<tmpdir>/PREFIX*` owned by this process, removed when the scope is released. */
  tempDir(prefix: string): string {
    const dir = makeTempDir(prefix);
    const rm = () => rmSync(dir, { recursive: true, force: true });
    this.defer(`temp folder ${dir}`, rm, rm);
    return dir;
  }

  /** A child process: SIGTERM on release, SIGKILL 2 s later if it has not gone. */
  child(c: ChildProcess, what = 'child process'): Held {
    const gone = () => c.exitCode !== null || c.signalCode !== null;
    return this.defer(
      `${what} (PID ${c.pid})`,
      () =>
        new Promise<void>((resolve) => {
          if (gone() || c.pid === undefined) return resolve();
          const t = setTimeout(() => c.kill('SIGKILL'), 2000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
          c.kill('SIGTERM');
        }),
      () => {
        if (!gone()) c.kill('SIGKILL');
      },
    );
  }

  private forget(e: Entry): void {
    const i = this.entries.indexOf(e);
    if (i >= 0) this.entries.splice(i, 1);
  }

  /** Give back everything still held, newest first; resolves when all steps have ended. */
  release(): Promise<void> {
    if (!this.releasing) {
      this.releasing = (async () => {
        for (;;) {
          const e = this.entries.pop();
          if (!e) break;
          if (e.done) continue;
          e.done = true;
          this.pending.add(e);
          try {
            await e.release();
          } catch { /* one failing step never skips the others */ } finally {
            this.pending.delete(e);
          }
        }
      })().finally(() => {
        this.releasing = null;
      });
    }
    return this.releasing;
  }

  /** Synchronous last resort for what is still held (SIGKILL, rmSync, unlink). */
  releaseNow(): void {
    for (const e of [...this.pending, ...[...this.entries].reverse()]) {
      try {
        e.now?.();
      } catch { /* keep going */ }
    }
  }

  /** What is still held (for messages and tests). */
  held(): string[] {
    return this.entries.filter((e) => !e.done).map((e) => e.what);
  }
}

/**
 * The scope the CLI passed to a command handler (main.ts gives it to yargs as context, so it
 * arrives in the handler's arguments). A handler run outside main gets a fresh one it must release.
 */
export function scopeOf(args: object): Scope {
  const s = (args as { scope?: unknown }).scope;
  return s instanceof Scope ? s : new Scope();
}
