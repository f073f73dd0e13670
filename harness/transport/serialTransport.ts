/** Serial link through the `serialport` package: a USB CDC port, a UART adapter, or a pty. */
import type { SerialPort } from 'serialport';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { RxBuffer } from './rxBuffer.js';
import { PortIo, isUnixPortBinding } from './portIo.js';
import { LinkClosedError, LinkGoneError, LinkOpenError, LinkTimeoutError, NoSuchPortError, PortBusyError, PortPermissionError } from './errors.js';
import type { Transport } from './transport.js';

/**
 * How long a port held by another program is retried before giving up (within the deadline):
 * long enough for a hil that is just exiting to let go, short enough not to sit out a whole
 * deadline waiting for an IDE that never will.
 */
export const BUSY_RETRY_MS = 2000;

/**
 * serialport is loaded when a port is first used, not at start-up: its SerialPort class alone
 * (the stream and the native binding), not the package's index, which loads every parser it
 * re-exports too (about half of the package's load time, paid by every command that opens a port).
 */
async function serialport(): Promise<typeof import('serialport/dist/serialport.js')> {
  return import('serialport/dist/serialport.js');
}

/**
 * What an open error from serialport's native code means. It reports EACCES as "Error:
 * Permission denied, cannot open PATH", a lock held elsewhere as "Error Resource temporarily
 * unavailable Cannot lock port" (flock, Linux) and an exclusive tty (TIOCEXCL, macOS) as EBUSY.
 */
function openFailure(message: string): 'permission' | 'busy' | 'other' {
  if (/permission denied|EACCES/i.test(message)) return 'permission';
  if (/cannot lock port|resource busy|EBUSY/i.test(message)) return 'busy';
  return 'other';
}

/** What `write` answers when the kernel took everything at once (immutable: shared by every write). */
const WRITTEN: Promise<void> = Promise.resolve();

export class SerialTransport implements Transport {
  readonly rx: RxBuffer;
  private port: SerialPort | null = null;
  private io: PortIo | null = null;
  onTraffic?: (dir: 'tx' | 'rx', data: Uint8Array, owned?: boolean) => void;

  /** `locate` gives the current path (a USB board may come back under another name). */
  constructor(private readonly locate: () => Promise<string>, readonly description: string, private readonly baudRate = 115200) {
    this.rx = new RxBuffer(description);
  }

  static byPath(path: string): SerialTransport {
    return new SerialTransport(async () => path, path);
  }

  static bySerialNumber(serial: string): SerialTransport {
    return new SerialTransport(() => findPortBySerial(serial), `id:${serial}`);
  }

  get isOpen(): boolean {
    if (this.io) return !this.rx.closed;
    return this.port?.isOpen ?? false;
  }

  async open(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    let lastErr = '';
    let busySince: number | null = null;
    // A board that is re-enumerating, or a pty being recreated, appears after a moment: retry
    // until the deadline, never longer. A port another program holds is retried only briefly.
    for (;;) {
      let path: string | null = null;
      try {
        path = await this.locate();
      } catch (e) {
        if (e instanceof LinkGoneError) throw e;
        lastErr = (e as Error).message;
      }
      if (path && existsSync(path)) {
        try {
          await this.openPath(path);
          return;
        } catch (e) {
          lastErr = (e as Error).message;
          const named = path === this.description ? path : `${this.description} (${path})`;
          const why = openFailure(lastErr);
          if (why === 'permission') throw new PortPermissionError(named);
          if (why === 'busy') {
            busySince ??= Date.now();
            if (Date.now() - busySince >= BUSY_RETRY_MS || Date.now() >= deadline) throw new PortBusyError(named);
          } else busySince = null;
        }
      } else if (path) {
        lastErr = `${path} does not exist`;
      }
      if (Date.now() >= deadline) {
        // Reached after a reset too (the port did not come back): an infrastructure error.
        throw new LinkTimeoutError(`${this.description}: cannot open the serial port: ${lastErr}`, 'connect');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Open `path` with serialport's exclusive lock (flock on Linux): a second opener is refused.
   * On Unix the port's bytes then move on the event loop's thread (portIo.ts); elsewhere through
   * serialport's stream.
   */
  private async openPath(path: string): Promise<void> {
    if (this.io) {
      // A port that went away under us: let go of its descriptor (and lock) before opening again.
      await this.io.close();
      this.io = null;
    }
    const { SerialPort } = await serialport();
    const opened: unknown = await SerialPort.binding.open({ path, baudRate: this.baudRate, lock: true });
    this.rx.reopen();
    if (isUnixPortBinding(opened)) {
      this.io = new PortIo(
        opened,
        (d) => {
          // A fresh copy of what was read (portIo.ts), changed by nobody: kept as it is by both.
          this.onTraffic?.('rx', d, true);
          this.rx.pushOwned(d);
        },
        (reason) => this.rx.markClosed(`serial port closed (${reason})`),
        path,
      );
      return;
    }
    await (opened as { close(): Promise<void> }).close();
    await this.openStream(path);
  }

  /** The portable path: serialport's stream (its reads and writes go through the thread pool). */
  private async openStream(path: string): Promise<void> {
    const { SerialPort } = await serialport();
    return new Promise((resolve, reject) => {
      const port = new SerialPort({ path, baudRate: this.baudRate, autoOpen: false, lock: true });
      port.open((err) => {
        if (err) return reject(err);
        this.port = port;
        this.rx.reopen();
        port.on('data', (d: Buffer) => {
          this.onTraffic?.('rx', d);
          this.rx.push(d);
        });
        port.on('close', () => this.rx.markClosed('serial port closed'));
        port.on('error', (e) => this.rx.markClosed(e.message));
        resolve();
      });
    });
  }

  /** Resolves once the kernel has taken `data` (on Unix: at once, usually, with no wait). */
  write(data: Uint8Array | string): Promise<void> {
    // A string's bytes are ours; a caller's bytes are not copied here (the transcript copies them).
    const owned = typeof data === 'string';
    const b = owned ? Buffer.from(data, 'latin1') : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const io = this.io;
    const port = this.port;
    if (!io && !port) return Promise.reject(new LinkOpenError(`${this.description}: port is not open`, 'write'));
    // Open once and closed now: the link dropped (unplugged, reset), a link fault like any other.
    if (io ? this.rx.closed : !port!.isOpen) return Promise.reject(new LinkClosedError(`${this.description}: port closed`, 'write'));
    this.onTraffic?.('tx', b, owned);
    if (io) {
      const failed = (e: unknown) => new LinkClosedError(`${this.description}: write failed: ${(e as Error).message}`, 'write');
      try {
        const r = io.write(b);
        return r === true ? WRITTEN : r.catch((e) => Promise.reject(failed(e)));
      } catch (e) {
        return Promise.reject(failed(e));
      }
    }
    return new Promise<void>((resolve, reject) => {
      port!.write(b, (err) => (err ? reject(new LinkClosedError(`${this.description}: write failed: ${err.message}`, 'write')) : resolve()));
    });
  }

  async close(): Promise<void> {
    const port = this.port;
    const io = this.io;
    this.port = null;
    this.io = null;
    if (io) await io.close();
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.rx.markClosed('closed by hil');
  }
}

/** List USB serial ports (path, serial number, VID:PID). Needs udevadm on Linux. */
export async function listSerialPorts(): Promise<{ path: string; serialNumber?: string; vendorId?: string; productId?: string; manufacturer?: string }[]> {
  if (process.platform === 'linux') {
    try {
      execFileSync('udevadm', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new LinkOpenError('cannot list serial ports: udevadm not found (Debian: apt-get install udev)', 'list');
    }
  }
  const { SerialPort } = await serialport();
  return (await SerialPort.list()).map((p) => ({ path: p.path, serialNumber: p.serialNumber, vendorId: p.vendorId, productId: p.productId, manufacturer: p.manufacturer }));
}

async function findPortBySerial(serial: string): Promise<string> {
  const ports = await listSerialPorts();
  const hit = ports.find((p) => p.serialNumber === serial);
  if (!hit) throw new NoSuchPortError(`id:${serial}: no USB serial port with that serial number is connected`);
  return hit.path;
}
