/**
 * mpremote's exec, re-implemented over a hil transport for `npm run bench -- speed` when real
 * mpremote is not at hand (HIL_MPREMOTE_SRC unset): the byte sequence of
 * tools/mpremote/mpremote/transport_serial.py (exec_raw_no_follow, raw_paste_write, follow),
 * one step after another as mpremote does them: wait for the raw prompt, ask for raw-paste
 * (`\x05A\x01`), read `R\x01` and the window, send the code and `\x04`, wait for the board's
 * `\x04`, then read stdout and stderr up to their `\x04`s. The raw REPL must be entered already.
 */
import type { Transport } from '../harness/transport/transport.js';

export async function mpremoteExecLoop(t: Transport, n: number, code = 'pass', timeoutMs = 10_000): Promise<void> {
  const rx = t.rx;
  const body = Buffer.from(code, 'utf8');
  // The prompt of the raw REPL hil left us in was already read: the first exec does not wait for it.
  let prompt = false;
  for (let i = 0; i < n; i++) {
    const deadline = Date.now() + timeoutMs;
    if (prompt) await rx.readUntil('>', deadline, 'mpremote-prompt');
    prompt = true;
    await t.write('\x05A\x01');
    const r = await rx.readExactly(2, deadline, 'mpremote-raw-paste');
    if (r[0] !== 0x52 || r[1] !== 0x01) throw new Error(`raw-paste refused: ${JSON.stringify(r.toString('latin1'))}`);
    const w = await rx.readExactly(2, deadline, 'mpremote-window');
    let window = w.readUInt16LE(0);
    let off = 0;
    while (off < body.length) {
      while (window === 0 || rx.length > 0) {
        const b = await rx.readExactly(1, deadline, 'mpremote-flow');
        if (b[0] === 0x01) window += w.readUInt16LE(0);
        else throw new Error('unexpected byte during raw paste');
      }
      const piece = body.subarray(off, off + window);
      await t.write(piece);
      window -= piece.length;
      off += piece.length;
    }
    await t.write('\x04');
    await rx.readUntil('\x04', deadline, 'mpremote-end');
    await rx.readUntil('\x04', deadline, 'mpremote-stdout');
    const err = await rx.readUntil('\x04', deadline, 'mpremote-stderr');
    if (err.length) throw new Error(`exec raised: ${err.toString('utf8')}`);
  }
  // hil's next exec expects the prompt read.
  await rx.readUntil('>', Date.now() + timeoutMs, 'mpremote-prompt');
}
