/** RxBuffer: event-driven reads with deadlines, one deadline timer for every wait (fake clock: no timed assertions). */
import { afterEach, beforeEach, expect, it, jest } from '@jest/globals';
import { RxBuffer } from './rxBuffer.js';
import { LinkClosedError, LinkTimeoutError } from './errors.js';

beforeEach(() => {
  jest.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  jest.useRealTimers();
});

it('serves waits of different deadlines with one timer, and ends each at its own deadline', async () => {
  const rx = new RxBuffer('t');
  const now = Date.now();
  const a = rx.readExactly(4, now + 3000, 'a').catch((e: unknown) => e);
  const b = rx.readUntil('>', now + 1000, 'b').catch((e: unknown) => e);
  const c = rx.readUntil('\x04', now + 5000, 'c').catch((e: unknown) => e);
  await Promise.resolve();
  expect(jest.getTimerCount()).toBe(1);
  await jest.advanceTimersByTimeAsync(1000);
  expect(await b).toBeInstanceOf(LinkTimeoutError);
  expect(jest.getTimerCount()).toBe(1);
  rx.push(Buffer.from('ab'));
  await jest.advanceTimersByTimeAsync(1999);
  rx.push(Buffer.from('cd\x04'));
  expect(((await a) as Buffer).toString()).toBe('abcd');
  expect(((await c) as Buffer).toString()).toBe('');
  // Nobody waits: nothing fires for anybody.
  await jest.advanceTimersByTimeAsync(10_000);
  const late = rx.readExactly(1, Date.now() + 500, 'late').catch((e: unknown) => e);
  await jest.advanceTimersByTimeAsync(500);
  expect(await late).toBeInstanceOf(LinkTimeoutError);
});

it('finds a marker that arrives split over several pieces, and one after a read took the front of the buffer', async () => {
  const rx = new RxBuffer('t');
  const deadline = Date.now() + 1000;
  const r = rx.readUntil('raw REPL; CTRL-B', deadline, 'p');
  for (const piece of ['xx raw R', 'EPL; CT', 'RL-B to exit']) {
    rx.push(Buffer.from(piece));
    await Promise.resolve();
  }
  expect((await r).toString()).toBe('xx ');
  const two = rx.readUntilAny(['nope', ' to'], deadline, 'q');
  expect((await two).marker).toBe(1);
  rx.drain();
  const p = rx.readUntil('>>', deadline, 'r');
  rx.push(Buffer.from('aaaaaaaa'));
  await Promise.resolve();
  expect(rx.drain().toString()).toBe('aaaaaaaa');
  rx.pushOwned(Buffer.from('>>'));
  expect((await p).toString()).toBe('');
});

it('ends waits at once when the link closes', async () => {
  const rx = new RxBuffer('t');
  const r = rx.readExactly(2, Date.now() + 60_000, 'x').catch((e: unknown) => e);
  rx.markClosed('unplugged');
  expect(await r).toBeInstanceOf(LinkClosedError);
});
