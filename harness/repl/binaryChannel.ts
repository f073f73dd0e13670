/**
 * The binary channel: bulk bytes to a program running on the board, without base64 or exec per
 * chunk. The board program turns Ctrl-C off (`micropython.kbd_intr(-1)`), reads framed chunks
 * from `sys.stdin.buffer` (`HB`, u16 length, u32 crc32, data), hands each to the receiver's sink,
 * acknowledges it with one byte (0x06), keeps a running sha256, and at the end prints the count
 * and digest, which the host compares with its own. A few chunks may be in flight (a window), so
 * the link stays busy while the board writes flash, yet the board's input buffer never overruns.
 * A frame that fails its check (a link fault) ends the program with an error instead of writing.
 */
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { Transport } from '../transport/transport.js';
import type { RawRepl } from './rawRepl.js';
import { DeviceExceptionError, TransferIntegrityError } from './errors.js';
import { boardProgram } from '../board/program.js';

export interface ChannelOptions {
  chunkSize: number;
  window: number;
  timeoutMs: number;
  startOffset: number;
  onProgress?: (sent: number, total: number) => void;
  /**
   * Wraps the board program so that its output ends in a frame proving whether it ran (the device
   * layer's sealed wrapper): `check` returns 'ran', or the error to throw (the board proved it
   * did not run the program, or the frame did not arrive whole).
   */
  seal: (program: string) => { program: string; check(stdout: string, stderr: string): 'ran' | Error };
}

/** The board side (harness/board/device/binary_channel.py) for one stream. */
export function channelProgram(sink: string, total: number, start: number, chunk: number): string {
  return boardProgram('device/binary_channel', { sink, total, start, chunk });
}

export async function streamToBoard(device: string, t: Transport, repl: RawRepl, sink: string, data: Uint8Array, o: ChannelOptions): Promise<{ bytes: number; sha256: string }> {
  const deadline = Date.now() + o.timeoutMs;
  const total = data.length;
  const start = Math.min(o.startOffset, total);
  const sealed = o.seal(channelProgram(sink, total, start, o.chunkSize));
  await repl.submit(sealed.program, Math.min(o.timeoutMs, 15000));
  const rx = t.rx;
  /** The program ended: whether it ran is the seal's frame, never the text of an error. */
  const ended = (stdout: string, stderr: string): Error => {
    const ran = sealed.check(stdout, stderr);
    if (ran !== 'ran') return ran;
    // It ran and raised: a frame that failed the channel's own check is the link's fault (retryable).
    if (/^OSError: HIL_CHANNEL /m.test(stderr)) return new TransferIntegrityError(`${device}: ${stderr.trim().split('\n').pop()}`, 'transfer');
    return new DeviceExceptionError(device, stderr || stdout);
  };
  const ack = async (): Promise<void> => {
    const r = await rx.readUntilAny(['\x06', '\x04'], Math.min(deadline, Date.now() + 20000), 'transfer');
    if (r.marker === 1) {
      // The program ended early: its stderr holds the reason.
      const err = (await rx.readUntil('\x04', deadline, 'transfer')).toString('utf8');
      await rx.readUntil('>', deadline, 'transfer').catch(() => undefined);
      throw ended(r.data.toString('utf8'), err);
    }
  };
  await ack(); // the program is running and has turned Ctrl-C off
  const frames: Buffer[] = [];
  for (let off = start; off < total; off += o.chunkSize) {
    const piece = data.subarray(off, Math.min(total, off + o.chunkSize));
    const hdr = Buffer.alloc(8);
    hdr.write('HB', 0, 'latin1');
    hdr.writeUInt16LE(piece.length, 2);
    hdr.writeUInt32LE(crc32(piece) >>> 0, 4);
    frames.push(Buffer.concat([hdr, piece]));
  }
  let sent = 0;
  let acked = 0;
  let ackedBytes = start;
  while (acked < frames.length) {
    while (sent < frames.length && sent - acked < o.window) await t.write(frames[sent++]!);
    await ack();
    ackedBytes += frames[acked]!.length - 8;
    acked++;
    o.onProgress?.(ackedBytes, total);
  }
  const out = await rx.readUntil('\x04', deadline, 'transfer-end');
  const err = await rx.readUntil('\x04', deadline, 'transfer-end');
  await rx.readUntil('>', deadline, 'transfer-end');
  if (err.length) throw ended(out.toString('utf8'), err.toString('utf8'));
  const ran = sealed.check(out.toString('utf8'), '');
  if (ran !== 'ran') throw ran;
  const m = /HILBIN (\d+) ([0-9a-f]{64})/.exec(out.toString('latin1'));
  const want = createHash('sha256').update(data.subarray(start)).digest('hex');
  if (!m) throw new TransferIntegrityError(`${device}: the board did not report what it received`, 'transfer');
  if (Number(m[1]) !== total - start || m[2] !== want) {
    throw new TransferIntegrityError(`${device}: the board received ${m[1]} bytes with sha256 ${m[2]!.slice(0, 16)}…, sent ${total - start} with ${want.slice(0, 16)}…`, 'transfer');
  }
  return { bytes: total - start, sha256: m[2]! };
}
