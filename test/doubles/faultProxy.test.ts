import { createServer, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { FaultProxy } from './faultProxy.js';

async function echoServer() {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('data', (d) => s.write(d));
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return { port, sockets, close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }) };
}

function client(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

describe('FaultProxy (test double: TCP relay with fault injection)', () => {
  it('forwards both ways and counts bytes', async () => {
    const echo = await echoServer();
    const proxy = await FaultProxy.start({ target: `127.0.0.1:${echo.port}` });
    cleanup.push(() => proxy.close(), echo.close);
    const s = await client(proxy.port);
    const got = new Promise<string>((r) => s.once('data', (d) => r(d.toString())));
    s.write('hello');
    expect(await got).toBe('hello');
    expect(proxy.stats).toMatchObject({ toBoard: 5, toHost: 5, connections: 1 });
    s.destroy();
  });

  it('cuts the link after exactly N bytes toward the board, and accepts a new connection after', async () => {
    const echo = await echoServer();
    const proxy = await FaultProxy.start({ target: `127.0.0.1:${echo.port}` });
    cleanup.push(() => proxy.close(), echo.close);
    const s = await client(proxy.port);
    let received = '';
    s.on('data', (d) => (received += d.toString()));
    const closed = new Promise<void>((r) => s.on('close', () => r()));
    proxy.dropAfter(3);
    s.write('abcdef');
    await closed;
    expect(proxy.stats.toBoard).toBe(3);
    expect(proxy.stats.drops).toBe(1);
    expect(received.length).toBeLessThanOrEqual(3);
    const s2 = await client(proxy.port);
    const got = new Promise<string>((r) => s2.once('data', (d) => r(d.toString())));
    s2.write('xy');
    expect(await got).toBe('xy');
    s2.destroy();
  });

  it('refuses connections for a while', async () => {
    const echo = await echoServer();
    const proxy = await FaultProxy.start({ target: `127.0.0.1:${echo.port}` });
    cleanup.push(() => proxy.close(), echo.close);
    proxy.refuseFor(10_000);
    const s = await client(proxy.port);
    await new Promise<void>((r) => s.on('close', () => r()));
    expect(proxy.stats.connections).toBe(0);
  });
});
