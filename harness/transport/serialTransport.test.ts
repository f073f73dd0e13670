/**
 * Opening a serial port another program holds, or one the user may not open, on real ptys made
 * by socat (test/badinput/ports.ts). serialport takes an exclusive lock (flock) on open, so a
 * second opener, even in this process, is refused the way a second hil or mpremote would be.
 */
import { chmodSync } from 'node:fs';
import { SerialTransport } from './serialTransport.js';
import { PortBusyError, PortPermissionError } from './errors.js';
import { ptyEachTest } from '../../test/badinput/ports.js';

const ptys = ptyEachTest('hil-serial-', 'ttyT');
const noPty = ptys.skip;
if (noPty) console.log(`harness/transport serial tests skipped: ${noPty}`);
const maybe = noPty ? test.skip : test;

function transport(path: string): SerialTransport {
  const t = SerialTransport.byPath(path);
  ptys.track(t);
  return t;
}

maybe('a port another opener holds is refused as busy (exit 3) well before a long deadline', async () => {
  await transport(ptys.pty().path).open(5000);
  const err = await transport(ptys.pty().path).open(120_000).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PortBusyError);
  expect((err as PortBusyError).exitCode).toBe(3);
  expect((err as Error).message).toBe(`${ptys.pty().path}: serial port is busy (another program holds it: close the IDE, mpremote or screen)`);
}, 30_000);

maybe('a port let go while the opener is still retrying is opened', async () => {
  const first = transport(ptys.pty().path);
  await first.open(5000);
  const second = transport(ptys.pty().path);
  const opening = second.open(10_000);
  setTimeout(() => void first.close(), 300);
  await opening;
  expect(second.isOpen).toBe(true);
  expect(first.isOpen).toBe(false);
});

const root = process.getuid?.() === 0;
if (!noPty && root) console.log('harness/transport permission test skipped: root ignores file modes (test/badinput runs the CLI as nobody for this)');
(noPty || root ? test.skip : test)('a port this user may not open is a permission error (exit 2) at once', async () => {
  chmodSync(ptys.pty().device, 0o000);
  const err = await transport(ptys.pty().path).open(120_000).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PortPermissionError);
  expect((err as PortPermissionError).exitCode).toBe(2);
  expect((err as Error).message).toBe(`${ptys.pty().path}: permission denied opening the serial port (add your user to the dialout group)`);
}, 30_000);

// Bytes move on the event loop's own thread, not through libuv's thread pool (which serialport's
// stream uses for every read and write): with every pool thread busy, a round trip between the
// two ends of a pty pair still completes before any of the pool's work does.
maybe('a round trip over a pty needs no thread-pool thread', async () => {
  const a = transport(ptys.pty().path);
  const b = transport(`${ptys.pty().path}.peer`);
  await a.open(5000);
  await b.open(5000);
  const { pbkdf2 } = await import('node:crypto');
  const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  let poolDone = 0;
  const busy = Array.from({ length: poolSize }, () => new Promise<void>((resolve) => {
    pbkdf2('hil', 'salt', 400_000, 64, 'sha512', () => {
      poolDone++;
      resolve();
    });
  }));
  try {
    await a.write('ping\n');
    await b.rx.readUntil('ping\n', Date.now() + 60_000, 'test');
    await b.write('pong\n');
    await a.rx.readUntil('pong\n', Date.now() + 60_000, 'test');
    expect(poolDone).toBe(0);
  } finally {
    await Promise.all(busy);
  }
}, 120_000);
