/**
 * The binary channel: bulk bytes to a program running on the board, without base64 or exec per
 * chunk. The board program (harness/board/device/binary_channel.py) turns Ctrl-C off
 * (`micropython.kbd_intr(-1)`) and reads frames from `sys.stdin.buffer`: `HB`, u16 length, u32
 * stream offset, u32 CRC-32 of the stream from its start through this frame, data. The offset
 * proves that no frame was lost or repeated, the running CRC the frame and everything before it,
 * in one pass over the bytes (no hash per chunk: the caller proves what it wrote, e.g. flash's
 * partition sha256). One byte (0x06) acknowledges each group of frames; the host keeps at most
 * two groups in flight, so the link stays busy while the board works on one group, yet never
 * holds more than `inFlightBytes` unacknowledged bytes. At the end the board prints the count and
 * the running CRC, which the host compares with its own. The first frame that fails a check ends
 * the program with an error (a link fault, which the caller may send again: device/resend.ts).
 */
import { sha256Hex } from '../sha256.js';
import { crc32 } from 'node:zlib';
import type { Transport } from '../transport/transport.js';
import type { RawRepl } from './rawRepl.js';
import { DeviceExceptionError, TransferIntegrityError } from './errors.js';
import { compactBoardProgram } from '../board/program.js';
import { LinkTimeoutError } from '../transport/errors.js';

/** Frame header: `HB`, u16 length, u32 offset, u32 running CRC-32. */
export const FRAME_HEADER = 12;
/** Payload bytes one acknowledgement covers (at least one frame). */
export const GROUP_BYTES = 16 * 1024;

/** Frames per acknowledgement for `chunkSize`-byte frames. */
export function framesPerAck(chunkSize: number): number {
  return Math.max(1, Math.floor(GROUP_BYTES / Math.max(1, chunkSize)));
}

/** Payload bytes the host may have sent past the last acknowledgement: two groups. */
export function inFlightBytes(chunkSize: number): number {
  return 2 * framesPerAck(chunkSize) * chunkSize;
}

export interface ChannelOptions {
  chunkSize: number;
  /** Frames per acknowledgement (default framesPerAck(chunkSize)); two groups are kept in flight. */
  group?: number;
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

/** The board side (harness/board/device/binary_channel.py) for one stream, compacted (fewer bytes to send). */
export function channelProgram(sink: string, total: number, start: number, chunk: number, group = 1): string {
  return compactBoardProgram('device/binary_channel', { sink, total, start, chunk, group });
}

/** The frames of `data` from `start`: header (offset, running CRC-32) and payload, one buffer each. */
export function channelFrames(data: Uint8Array, start: number, chunkSize: number): { frames: Buffer[]; crc: number } {
  const frames: Buffer[] = [];
  let acc = 0;
  for (let off = start; off < data.length; off += chunkSize) {
    const piece = data.subarray(off, Math.min(data.length, off + chunkSize));
    acc = crc32(piece, acc) >>> 0;
    const frame = Buffer.allocUnsafe(FRAME_HEADER + piece.length);
    frame.write('HB', 0, 'latin1');
    frame.writeUInt16LE(piece.length, 2);
    frame.writeUInt32LE(off, 4);
    frame.writeUInt32LE(acc, 8);
    frame.set(piece, FRAME_HEADER);
    frames.push(frame);
  }
  return { frames, crc: acc };
}

/** How long the board may take to acknowledge a group, or to take a frame off the link (ms). */
const ACK_MS = 20_000;

/** `t.write(frame)` within the deadline: a board that stops reading fills the link's buffers, and a write would wait for ever. */
async function writeBy(t: Transport, frame: Buffer, until: number, device: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LinkTimeoutError(`${device}: the board stopped taking binary frames (a write waited ${ACK_MS} ms)`, 'transfer')), Math.max(0, until - Date.now()));
  });
  try {
    await Promise.race([t.write(frame), late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function streamToBoard(device: string, t: Transport, repl: RawRepl, sink: string, data: Uint8Array, o: ChannelOptions): Promise<{ bytes: number; sha256: string }> {
  const deadline = Date.now() + o.timeoutMs;
  const total = data.length;
  const start = Math.min(o.startOffset, total);
  const group = Math.max(1, o.group ?? framesPerAck(o.chunkSize));
  const sealed = o.seal(channelProgram(sink, total, start, o.chunkSize, group));
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
    const r = await rx.readUntilAny(['\x06', '\x04'], Math.min(deadline, Date.now() + ACK_MS), 'transfer');
    if (r.marker === 1) {
      // The program ended early: its stderr holds the reason.
      const err = (await rx.readUntil('\x04', deadline, 'transfer')).toString('utf8');
      await rx.readUntil('>', deadline, 'transfer').catch(() => undefined);
      throw ended(r.data.toString('utf8'), err);
    }
  };
  await ack(); // the program is running and has turned Ctrl-C off
  const { frames, crc } = channelFrames(data, start, o.chunkSize);
  // Two groups in flight: the board works on one while the next arrives; each 0x06 frees a group.
  const window = 2 * group;
  let sent = 0;
  let acked = 0;
  let ackedBytes = start;
  while (acked < frames.length) {
    while (sent < frames.length && sent - acked < window) await writeBy(t, frames[sent++]!, Math.min(deadline, Date.now() + ACK_MS), device);
    await ack();
    const to = Math.min(frames.length, acked + group);
    for (; acked < to; acked++) ackedBytes += frames[acked]!.length - FRAME_HEADER;
    o.onProgress?.(ackedBytes, total);
  }
  const out = await rx.readUntil('\x04', deadline, 'transfer-end');
  const err = await rx.readUntil('\x04', deadline, 'transfer-end');
  await rx.readUntil('>', deadline, 'transfer-end');
  if (err.length) throw ended(out.toString('utf8'), err.toString('utf8'));
  const ran = sealed.check(out.toString('utf8'), '');
  if (ran !== 'ran') throw ran;
  const m = /HILBIN (\d+) ([0-9a-f]{8})/.exec(out.toString('latin1'));
  if (!m) throw new TransferIntegrityError(`${device}: the board did not report what it received`, 'transfer');
  const want = crc.toString(16).padStart(8, '0');
  if (Number(m[1]) !== total - start || m[2] !== want) {
    throw new TransferIntegrityError(`${device}: the board received ${m[1]} bytes with CRC-32 ${m[2]}, sent ${total - start} with ${want}`, 'transfer');
  }
  // Every byte the board took is proven by its frame's offset and running CRC, the whole by the count and the last CRC.
  return { bytes: total - start, sha256: sha256Hex(data.subarray(start)) };
}
