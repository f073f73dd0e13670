/** Worker thread of the simulated board: blocking reads of the serial line (fd 0) into the ring. */
import { readSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { InputRing } from './inputRing.js';

const ring = new InputRing(workerData.sab as SharedArrayBuffer);
const buf = Buffer.alloc(65536);
for (;;) {
  let n: number;
  try {
    n = readSync(0, buf, 0, buf.length, null);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN') {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      continue;
    }
    n = 0;
  }
  if (n === 0) {
    ring.markEof();
    break;
  }
  ring.push(buf.subarray(0, n));
}
