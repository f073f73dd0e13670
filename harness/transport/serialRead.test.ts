/**
 * Reading an open serial port on real ptys made by socat (test/badinput/ports.ts): the bytes come
 * through a second descriptor of the tty that stays registered with the event loop (ttyReader.ts),
 * not through serialport's poller re-armed per read; deadlines, closes and hang-ups end reads as
 * they did. The peer end is opened by a second SerialTransport in this process.
 */
import { readdirSync } from 'node:fs';
import { SerialTransport } from './serialTransport.js';
import { PortIo, isUnixPortBinding, type UnixPortBinding } from './portIo.js';
import { LinkClosedError, LinkTimeoutError, PortBusyError } from './errors.js';
import { ptyEachTest } from '../../test/badinput/ports.js';

const ptys = ptyEachTest('hil-serial-read-', 'ttyR');
const noPty = ptys.skip;
if (noPty) console.log(`harness/transport serial read tests skipped: ${noPty}`);
const maybe = noPty ? test.skip : test;

async function transport(path: string): Promise<SerialTransport> {
  const t = SerialTransport.byPath(path);
  ptys.track(t);
  await t.open(5000);
  return t;
}

/** The next bytes `t` receives (whatever they are), within a deadline. */
function nextArrival(t: SerialTransport): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('nothing arrived within 10 s')), 10_000);
    const before = t.onTraffic;
    t.onTraffic = (dir, data, owned) => {
      before?.(dir, data, owned);
      if (dir !== 'rx') return;
      t.onTraffic = before;
      clearTimeout(timer);
      resolve();
    };
  });
}

/** serialport's binding opened on `path` (lock taken), with every poll() it is asked for counted. */
async function countedBinding(path: string): Promise<{ b: UnixPortBinding; polls: number[] }> {
  const { SerialPort } = await import('serialport/dist/serialport.js');
  const b: unknown = await SerialPort.binding.open({ path, baudRate: 115200, lock: true });
  if (!isUnixPortBinding(b)) throw new Error('not a Unix port binding');
  const polls: number[] = [];
  const poll = b.poller.poll.bind(b.poller);
  b.poller.poll = (flags: number) => {
    polls.push(flags);
    poll(flags);
  };
  return { b, polls };
}

/** `n` round trips between `io` (its received bytes in `got`) and the peer transport. */
async function pingPong(io: PortIo, got: Buffer[], peer: SerialTransport, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = io.write(Buffer.from(`ping ${i}\n`));
    if (r !== true) await r;
    expect((await peer.rx.readUntil('\n', Date.now() + 10_000, 'ping')).toString()).toBe(`ping ${i}`);
    await peer.write(`pong ${i}\n`);
    const deadline = Date.now() + 10_000;
    while (!Buffer.concat(got).includes(`pong ${i}\n`)) {
      if (Date.now() > deadline) throw new Error(`no pong ${i}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

maybe('a pty is read through its second descriptor: no poll per read (the poller only waits for writable)', async () => {
  const peer = await transport(`${ptys.pty().path}.peer`);
  const { b, polls } = await countedBinding(ptys.pty().path);
  const got: Buffer[] = [];
  const io = new PortIo(b, (d) => got.push(d), () => undefined, ptys.pty().path);
  ptys.track(io);
  expect(io.readsThroughTty).toBe(true);
  await pingPong(io, got, peer, 20);
  expect(Buffer.concat(got).toString()).toBe(Array.from({ length: 20 }, (_, i) => `pong ${i}\n`).join(''));
  expect(polls.filter((f) => f & 0b0001)).toEqual([]);
});

maybe('without a path the poller reads, re-armed for readable after every read', async () => {
  const peer = await transport(`${ptys.pty().path}.peer`);
  const { b, polls } = await countedBinding(ptys.pty().path);
  const got: Buffer[] = [];
  const io = new PortIo(b, (d) => got.push(d), () => undefined);
  ptys.track(io);
  expect(io.readsThroughTty).toBe(false);
  await pingPong(io, got, peer, 20);
  expect(Buffer.concat(got).toString()).toBe(Array.from({ length: 20 }, (_, i) => `pong ${i}\n`).join(''));
  expect(polls.filter((f) => f & 0b0001).length).toBeGreaterThanOrEqual(20);
});

maybe('an answer whose terminator is split between two arrivals is read whole, and what follows stays', async () => {
  const a = await transport(ptys.pty().path);
  const b = await transport(`${ptys.pty().path}.peer`);
  const reading = a.rx.readUntil('\x04>', Date.now() + 10_000, 'split');
  const first = nextArrival(a);
  await b.write('OK answer\x04');
  await first;
  expect(a.rx.length).toBe(10);
  await b.write('>rest');
  expect((await reading).toString()).toBe('OK answer');
  expect((await a.rx.readExactly(4, Date.now() + 10_000, 'rest')).toString()).toBe('rest');
});

maybe('a wait nobody answers ends at its deadline while the port is read, and the port reads on', async () => {
  const a = await transport(ptys.pty().path);
  const b = await transport(`${ptys.pty().path}.peer`);
  const err = await a.rx.readUntil('\n', Date.now() + 200, 'quiet').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LinkTimeoutError);
  expect((err as LinkTimeoutError).message).toContain('no answer within the deadline (quiet)');
  await b.write('late\n');
  expect((await a.rx.readUntil('\n', Date.now() + 10_000, 'late')).toString()).toBe('late');
});

maybe('hil closing the port during a read ends the read; both descriptors and the lock are let go', async () => {
  const fds = () => readdirSync('/proc/self/fd').length;
  const before = fds();
  const a = await transport(ptys.pty().path);
  // serialport's descriptor and the one the tty is read through.
  expect(fds()).toBe(before + 2);
  const reading = a.rx.readUntil('\n', Date.now() + 60_000, 'waiting').catch((e: unknown) => e);
  await a.close();
  const err = await reading;
  expect(err).toBeInstanceOf(LinkClosedError);
  expect((err as Error).message).toContain('closed by hil');
  expect(fds()).toBe(before);
  // The lock went with serialport's descriptor: the port opens again, and it is read again.
  const again = await transport(ptys.pty().path);
  const b = await transport(`${ptys.pty().path}.peer`);
  await b.write('again\n');
  expect((await again.rx.readUntil('\n', Date.now() + 10_000, 'again')).toString()).toBe('again');
});

maybe('the lock is held while the port is read through the second descriptor', async () => {
  await transport(ptys.pty().path);
  const err = await transport(ptys.pty().path).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(PortBusyError);
});

maybe('the other end hanging up during a read ends it as a closed link', async () => {
  const a = await transport(ptys.pty().path);
  const reading = a.rx.readUntil('\n', Date.now() + 60_000, 'hangup').catch((e: unknown) => e);
  await ptys.pty().stop();
  const err = await reading;
  expect(err).toBeInstanceOf(LinkClosedError);
  expect((err as Error).message).toMatch(/link closed while waiting \(hangup\): serial port closed \(read(: end of file| failed: E[A-Z]+)\)/);
  expect(a.isOpen).toBe(false);
});

maybe('a write larger than the kernel takes at once waits for writable and arrives whole', async () => {
  const a = await transport(ptys.pty().path);
  const b = await transport(`${ptys.pty().path}.peer`);
  const data = Buffer.alloc(512 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 0xff;
  const [, got] = await Promise.all([a.write(data), b.rx.readExactly(data.length, Date.now() + 30_000, 'bulk')]);
  expect(got.equals(data)).toBe(true);
});
