/**
 * Which process is which: a PID plus its start time (field 22 of /proc/<pid>/stat) names one
 * process for good, so a recycled PID is never mistaken for the hil that wrote a lock file or
 * made a temp folder.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Start time of a process (clock ticks since boot), null when /proc is not available. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses: fields after the last ')' are fixed.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? null; // field 22 overall = index 19 after state (field 3)
  } catch {
    return null;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process by identity: PID, start time and host. */
export interface ProcessId {
  pid: number;
  start: string | null;
  host: string;
}

export function thisProcess(): ProcessId {
  return { pid: process.pid, start: processStart(process.pid), host: hostname() };
}

/**
 * Whether the process `p` names still runs. Another host's process is assumed alive (hil cannot
 * see it); on this host, a PID that is gone or now belongs to a later process is dead.
 */
export function sameProcessAlive(p: ProcessId): boolean {
  if (p.host !== hostname()) return true;
  if (!processAlive(p.pid)) return false;
  if (p.start !== null) {
    const now = processStart(p.pid);
    if (now !== null && now !== p.start) return false;
  }
  return true;
}
