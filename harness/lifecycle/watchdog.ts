/**
 * Watchdog of one child process hil does not control (qemu-system-arm, socat): a tiny process
 * holding a pipe from its parent. When the pipe closes — the parent exited, however it died,
 * SIGKILL included — it stops the child (SIGTERM, then SIGKILL after 1 s) and exits. It exits by
 * itself as soon as the child is gone. The child is named by PID and start time, so a recycled PID
 * is never signalled.
 *
 *   node watchdog.js PID START
 */
import { processAlive, processStart } from './process.js';

const pid = Number(process.argv[2]);
const start = process.argv[3] ?? '';
const same = () => processAlive(pid) && (start === '' || processStart(pid) === start);

function stopChild(): void {
  if (!same()) process.exit(0);
  try {
    process.kill(pid, 'SIGTERM');
  } catch { /* gone */ }
  const t0 = Date.now();
  const poll = setInterval(() => {
    if (!same()) process.exit(0);
    if (Date.now() - t0 > 1000) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch { /* gone */ }
      clearInterval(poll);
      setTimeout(() => process.exit(0), 50);
    }
  }, 25);
}

if (!Number.isInteger(pid) || pid <= 0) process.exit(2);
// A signal meant for hil's process group (Ctrl-C) must not make the watchdog leave early: it
// stays until its pipe closes or the child is gone.
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, () => undefined);
process.stdin.on('end', stopChild);
process.stdin.on('close', stopChild);
process.stdin.on('error', stopChild);
process.stdin.resume();
setInterval(() => {
  if (!same()) process.exit(0);
}, 500);
