/**
 * Test helpers shared by the CLI tests that drive real hil processes (bin/hil.js, which runs
 * dist/: `npm run build` first): spawn one with its output collected, and wait for a condition
 * with a deadline (every wait in a test has one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot as findRepoRoot } from '../../harness/fault/spawnHil.js';

/** The checkout's root, found by the one helper that finds it (harness/fault/spawnHil.ts). */
export const repoRoot = findRepoRoot();
export const hilJs = join(repoRoot, 'bin/hil.js');

export interface HilProcess {
  child: ChildProcess;
  /** stdout and stderr as they came, interleaved. */
  out: () => string;
  /** stderr alone. */
  err: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * `hil ARGS` in `cwd` with `env`; `children` (when given) collects it, for an afterAll to end what is
 * left. `netns`: in that network namespace (`ip netns exec NAME node ...`, root only; ip execs node
 * in place, so the child's PID is hil's own and a signal to it reaches hil).
 */
export function spawnHil(args: string[], o: { cwd: string; env: NodeJS.ProcessEnv; children?: ChildProcess[]; stdin?: 'ignore' | 'pipe'; netns?: string }): HilProcess {
  const argv = [process.execPath, hilJs, ...args];
  const [cmd, ...rest] = o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv;
  const child = spawn(cmd!, rest, { cwd: o.cwd, env: o.env, stdio: [o.stdin ?? 'ignore', 'pipe', 'pipe'] });
  o.children?.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
    err += d.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, out: () => out, err: () => err, exit };
}

/** Polls `probe` every `pollMs` until it gives a truthy value (returned) or `ms` pass (throws naming `what`). */
export async function waitFor<T>(what: string, ms: number, probe: () => T | undefined | false | null, pollMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
