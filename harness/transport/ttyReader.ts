/**
 * The received bytes of an open serial port (a pty, a USB CDC or UART tty) through a second
 * descriptor of the same tty, read by libuv as a stream (node:tty's ReadStream, with net.Socket's
 * `onread` buffer): the descriptor stays registered with the event loop's epoll for as long as
 * the port is open, and each arrival is one read() into one buffer, handed over as it comes.
 *
 * Why not serialport's poller: its native Poller (@serialport/bindings-cpp src/poller.cpp,
 * Poller::onData) re-polls after every event without the event that fired, so every read has to
 * poll for readable again; each uv_poll_start first stops the watcher, and libuv's stop removes
 * the descriptor from epoll (libuv src/unix/poll.c uv__poll_stop -> uv__platform_invalidate_fd),
 * so a read cost three epoll_ctl and two calls into the binding besides the read itself.
 *
 * The port itself stays serialport's: it opens the port, sets its termios, holds the exclusive
 * lock (flock on the first descriptor, which stays open until the port is closed) and takes the
 * writes. The tty's input queue is the tty's, not a descriptor's: whichever descriptor reads,
 * reads every byte once. On a pty slave libuv opens the tty again by name and puts it in place
 * of the given descriptor (libuv src/unix/tty.c uv_tty_init: every tty that is not a pty master,
 * so a USB CDC or UART port too), which is why the descriptor given is a second one and never
 * serialport's own (replacing that would let go of its lock).
 */
import { closeSync, constants, openSync } from 'node:fs';
import { ReadStream } from 'node:tty';

export interface TtyReader {
  /** Stop reading; resolves once the second descriptor is closed. */
  close(): Promise<void>;
}

/**
 * Start reading `path`'s tty: `onData` gets each arrival (a fresh copy, owned by the receiver),
 * `onGone` once, when the tty hangs up (end of file) or a read fails. Null when the tty cannot
 * be read this way (a second open refused, e.g. an exclusive tty on macOS): the caller reads
 * through the poller then.
 */
export function openTtyReader(path: string, onData: (data: Buffer) => void, onGone: (reason: string) => void): TtyReader | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  const buf = Buffer.allocUnsafe(64 * 1024);
  let stopped = false;
  let stream: ReadStream;
  try {
    stream = new ReadStream(fd, {
      onread: {
        buffer: buf,
        callback: (n: number) => {
          if (!stopped) onData(Buffer.from(buf.subarray(0, n)));
        },
      },
    } as ConstructorParameters<typeof ReadStream>[1]);
  } catch {
    closeSync(fd);
    return null;
  }
  // libuv reopened the tty and put it in place of `fd` (uv_tty_init): it reads and closes its own
  // descriptor, and `fd` is a spare copy of it, ours to close. (Not reopened: `fd` is libuv's.)
  const used = (stream as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof used === 'number' && used >= 0 && used !== fd) closeSync(fd);
  const gone = (reason: string) => {
    if (stopped) return;
    stopped = true;
    onGone(reason);
  };
  stream.on('error', (e: NodeJS.ErrnoException) => gone(`read failed: ${e.code ?? e.message}`));
  // End of file on a tty: the other side hung up.
  stream.on('end', () => gone('read: end of file'));
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  stream.resume();
  return {
    close(): Promise<void> {
      stopped = true;
      stream.destroy();
      return closed;
    },
  };
}
