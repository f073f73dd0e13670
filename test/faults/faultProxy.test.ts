/**
 * The fault-injecting link (harness/fault) against a plain TCP echo server standing in for the
 * board side (an echo server, not a board): each action and trigger changes the byte stream
 * exactly as documented, and the seeded randomness repeats.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { FaultProxy, type FaultRule } from '../../harness/fault/index.js';

let echo: Server;
let echoPort = 0;
const proxies: FaultProxy[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  echo = createServer((s) => s.on('data', (b) => s.write(b)).on('error', () => undefined));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  echoPort = (echo.address() as { port: number }).port;
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const p of proxies.splice(0)) await p.close();
});
afterAll(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
});

async function through(rules: FaultRule[], seed = 7): Promise<{ proxy: FaultProxy; sock: Socket; got: () => Buffer; closed: Promise<void> }> {
  const proxy = await FaultProxy.start({ upstream: `socket://127.0.0.1:${echoPort}`, rules, seed });
  proxies.push(proxy);
  const sock = connect({ host: '127.0.0.1', port: proxy.port });
  sockets.push(sock);
  const chunks: Buffer[] = [];
  sock.on('data', (b: Buffer) => chunks.push(b));
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  sock.on('error', () => undefined);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return { proxy, sock, got: () => Buffer.concat(chunks), closed };
}

const waitFor = async (cond: () => boolean, ms = 2000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('a clean link relays bytes unchanged both ways', async () => {
  const { sock, got } = await through([]);
  sock.write('hello board');
  await waitFor(() => got().length === 11);
  expect(got().toString()).toBe('hello board');
});

test('drop after N bytes to the board: exactly N bytes reach it, then the connection closes', async () => {
  const { sock, got, closed, proxy } = await through([{ when: { kind: 'bytes', dir: 'toBoard', at: 5 }, do: { kind: 'drop' } }]);
  sock.write('0123456789');
  await closed;
  expect(got().toString()).toBe('01234'.slice(0, got().length));
  expect(proxy.events.some((e) => e.action === 'drop' && e.at === 5)).toBe(true);
});

test('a drop cuts at the exact byte even mid-chunk: the board gets N bytes, a new connection relays cleanly', async () => {
  // Board side: a sink recording what each connection received (not a board).
  const received: Buffer[] = [];
  const boardSide: Socket[] = [];
  const sink = createServer((s) => {
    boardSide.push(s);
    const i = received.push(Buffer.alloc(0)) - 1;
    s.on('data', (b: Buffer) => (received[i] = Buffer.concat([received[i]!, b]))).on('error', () => undefined);
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
  try {
    const proxy = await FaultProxy.start({ upstream: `socket://127.0.0.1:${(sink.address() as { port: number }).port}`, rules: [{ when: { kind: 'bytes', dir: 'toBoard', at: 5 }, do: { kind: 'drop' } }] });
    proxies.push(proxy);
    const open = async () => {
      const sock = connect({ host: '127.0.0.1', port: proxy.port });
      sockets.push(sock);
      sock.on('error', () => undefined);
      await new Promise<void>((r) => sock.once('connect', () => r()));
      return sock;
    };
    const first = await open();
    const closed = new Promise<void>((r) => first.on('close', () => r()));
    first.write('0123456789');
    await closed;
    await waitFor(() => proxy.events.some((e) => e.conn === 1 && e.action === 'close'));
    await new Promise((r) => setTimeout(r, 50)); // anything leaked past the cut would land by now
    expect(received[0]?.toString()).toBe('01234');
    expect(proxy.stats.toBoard).toBe(5);
    const second = await open();
    second.write('abcdef');
    await waitFor(() => received[1]?.length === 6);
    expect(received[1]!.toString()).toBe('abcdef');
    expect(proxy.events.filter((e) => e.action === 'drop')).toHaveLength(1);
  } finally {
    for (const s of boardSide) s.destroy();
    await new Promise<void>((r) => sink.close(() => r()));
  }
});

test('corrupt flips one bit per byte at the trigger point; the same seed flips the same bits', async () => {
  const run = async () => {
    const { sock, got } = await through([{ when: { kind: 'bytes', dir: 'toHost', at: 3 }, do: { kind: 'corrupt', count: 2 } }], 42);
    sock.write('abcdefgh');
    await waitFor(() => got().length === 8);
    return got();
  };
  const a = await run();
  const b = await run();
  expect(a.subarray(0, 3).toString()).toBe('abc');
  expect(a.subarray(5).toString()).toBe('fgh');
  for (const i of [3, 4]) {
    const x = a[i]! ^ 'abcdefgh'.charCodeAt(i);
    expect(x !== 0 && (x & (x - 1)) === 0).toBe(true); // exactly one bit
  }
  expect(a.equals(b)).toBe(true);
});

test('duplicate and truncate after a pattern seen from the host', async () => {
  const { sock, got } = await through([
    { when: { kind: 'pattern', dir: 'toBoard', pattern: '\x01' }, do: { kind: 'duplicate', count: 2 } },
    { when: { kind: 'pattern', dir: 'toHost', pattern: 'OK', after: 1 }, do: { kind: 'truncate', count: 3 } },
  ]);
  sock.write('ab\x01xyOKzzzzQ');
  await waitFor(() => got().includes('Q'));
  // toBoard: 'ab\x01' then 'xy' doubled -> 'ab\x01xyxyOKzzzzQ'; toHost: after 'OK'+1 byte, 3 bytes swallowed.
  expect(got().toString('latin1')).toBe('ab\x01xyxyOKzQ');
});

test('stall holds bytes for its time and then delivers them in order; heal() lifts a stall forever', async () => {
  const { sock, got, proxy } = await through([{ when: { kind: 'bytes', dir: 'toHost', at: 2 }, do: { kind: 'stall' } }]);
  sock.write('1234');
  await waitFor(() => got().length === 2);
  await new Promise((r) => setTimeout(r, 100));
  expect(got().toString()).toBe('12');
  proxy.heal();
  sock.write('56');
  await waitFor(() => got().length === 6);
  expect(got().toString()).toBe('123456');
});

test('inject drop now cuts an open connection; a rule file in JSON parses or names the fault', async () => {
  const { closed, proxy } = await through([]);
  proxy.inject({ kind: 'drop' });
  await closed;
  const { parseRules } = await import('../../harness/fault/index.js');
  expect(parseRules('[{"when":{"kind":"time","ms":5},"do":{"kind":"drop"}}]', 'f.json')).toHaveLength(1);
  expect(() => parseRules('[{"when":{"kind":"soon"},"do":{"kind":"drop"}}]', 'f.json')).toThrow(/f\.json: rule 0: unknown trigger/);
});
