/**
 * hil's temp folders (`<tmpdir>/hil-*`): each carries an owner file naming the process that made
 * it (PID + start time + host), so what a killed hil left behind can be proven dead and removed by
 * the next hil (reclaimLeftovers), and nothing a live process uses is ever touched.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sameProcessAlive, thisProcess, type ProcessId } from './process.js';

export const OWNER_FILE = '.hil-owner';

/** mkdtemp under the temp folder (prefix starts with `hil-`), with this process as its owner. */
export function makeTempDir(prefix: string, parent: string = tmpdir()): string {
  const dir = mkdtempSync(join(parent, prefix));
  writeFileSync(join(dir, OWNER_FILE), JSON.stringify(thisProcess()));
  return dir;
}

export function readOwner(dir: string): ProcessId | null {
  try {
    const o = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as ProcessId;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? o : null;
  } catch {
    return null;
  }
}

/**
 * Remove the `hil-*` folders under `parent` whose owner file names a process that no longer runs
 * on this host. Folders without an owner file (not provably ours) are left alone. Returns what it
 * removed.
 */
export function reclaimTempDirs(parent: string = tmpdir()): string[] {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    if (!n.startsWith('hil-')) continue;
    const dir = join(parent, n);
    try {
      if (!lstatSync(dir).isDirectory()) continue;
    } catch {
      continue;
    }
    const owner = readOwner(dir);
    if (!owner || sameProcessAlive(owner)) continue;
    try {
      rmSync(dir, { recursive: true, force: true });
      removed.push(dir);
    } catch { /* another hil got there first, or not ours to remove */ }
  }
  return removed;
}
