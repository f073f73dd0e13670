/**
 * The TCP link against a real local TCP server: a peer that goes away after the link opened is a
 * link fault (LinkClosedError, which the device layer retries), not an open failure; nothing
 * listening is refused at once.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, expect, it } from '@jest/globals';
import { TcpTransport } from './tcpTransport.js';
import { LinkClosedError, LinkOpenError } from './errors.js';

let server: Server | undefined;
const socks: Socket[] = [];
afterEach(async () => {
  for (const s of socks.splice(0)) s.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

async function listen(onConn: (s: Socket) => void): Promise<number> {
  server = createServer((s) => {
    socks.push(s);
    onConn(s);
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

it('a peer that closes after the link opened makes the next write a LinkClosedError (phase write)', async () => {
  const port = await listen((s) => s.destroy());
  const t = new TcpTransport('127.0.0.1', port);
  await t.open(5000);
  await t.rx.readUntil('never', Date.now() + 2000, 'test').catch(() => undefined); // the close arrives
  const e = await t.write('\x01').catch((x: unknown) => x);
  expect(e).toBeInstanceOf(LinkClosedError);
  expect((e as LinkClosedError).phase).toBe('write');
  await t.close();
});

it('writing before the link was ever opened is a LinkOpenError', async () => {
  const t = new TcpTransport('127.0.0.1', 1);
  await expect(t.write('x')).rejects.toBeInstanceOf(LinkOpenError);
});

it('nothing listening is refused at once, not at the deadline', async () => {
  const port = await listen(() => undefined);
  await new Promise<void>((r) => server!.close(() => r()));
  server = undefined;
  const t = new TcpTransport('127.0.0.1', port);
  const t0 = Date.now();
  await expect(t.open(20_000)).rejects.toThrow(/connection refused/);
  expect(Date.now() - t0).toBeLessThan(10_000);
});
