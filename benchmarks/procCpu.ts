/** CPU time of this process's main thread, read from Linux's /proc (the benches' one reader of it). */
import { readFileSync } from 'node:fs';

/** CPU ms of this process's main thread (/proc/self/task/<pid>/stat utime+stime); null off Linux. */
export function mainThreadCpuMs(): number | null {
  try {
    const s = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}
