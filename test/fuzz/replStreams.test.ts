/**
 * REPL response handling under adversarial board output. The board here is a TEST DOUBLE (a TCP
 * server that answers the raw REPL badly on purpose, not MicroPython): seeded random bytes,
 * garbage before OK, missing \x04 terminators, huge output, stray '>' prompts, partial banners.
 * The device layer must settle within its deadline with a result or a typed HilError: never an
 * untyped exception, never a hang (outer watchdog). Each stream is tried two ways: through
 * openDevice (whose first program is the identity query, so the stream meets that parser), and on
 * a ReplDevice opened without the identity query, so the stream reaches exec's own parser.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { openDevice, ReplDevice } from '../../harness/device/index.js';
import { TcpTransport } from '../../harness/transport/index.js';
import { loadProfile } from '../../harness/profile/profile.js';
import { HilError } from '../../harness/errors.js';
import { seededRandom } from '../../harness/fault/index.js';

type Responder = (sock: Socket, rx: Buffer, rand: () => number) => void;
const BANNER = 'raw REPL; CTRL-B to exit\r\n>';
const ok = (s: Socket, body: string) => s.write(`OK${body}`);

const STREAMS: Record<string, Responder> = {
  'seeded random bytes': (s, rx, r) => s.write(Buffer.from(Array.from({ length: 1 + Math.floor(r() * 200) }, () => Math.floor(r() * 256)))),
  'garbage before OK': (s, rx) => (rx.includes(4) ? s.write('\x00\xffnoise>>\r\nOK1\r\n\x04\x04>') : rx.includes(1) ? s.write(BANNER) : undefined),
  'missing \\x04 terminators': (s, rx) => (rx.includes(4) ? ok(s, '1\r\n') : rx.includes(1) ? s.write(BANNER) : undefined),
  'huge output': (s, rx) => (rx.includes(4) ? ok(s, `${'x'.repeat(2_000_000)}\x04\x04>`) : rx.includes(1) ? s.write(BANNER) : undefined),
  "stray '>' prompts": (s, rx) => (rx.includes(4) ? s.write('>>>OK>1>\r\n\x04>\x04>') : rx.includes(1) ? s.write('>>> >raw REPL; CTRL-B to exit\r\n>') : undefined),
  'partial banner then silence': (s, rx) => (rx.includes(1) ? s.write('raw REP') : undefined),
  'closes on raw REPL entry': (s, rx) => (rx.includes(1) ? s.destroy() : undefined),
};

let server: Server;
let port = 0;
let current: Responder = () => undefined;
let rand = seededRandom(1);
beforeAll(async () => {
  server = createServer((s) => {
    s.on('error', () => undefined);
    s.on('data', (b: Buffer) => current(s, b, rand));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => new Promise<void>((r) => server.close(() => r())));

async function openRaw(): Promise<ReplDevice> {
  const conn = `socket://127.0.0.1:${port}`;
  const d = new ReplDevice({ name: conn, connection: conn, profile: loadProfile('openmv-h7'), transport: new TcpTransport('127.0.0.1', port) });
  try {
    await d.connect(3000);
  } catch (e) {
    await d.close().catch(() => undefined);
    throw e;
  }
  return d;
}

const CASES = Object.keys(STREAMS).flatMap((name) => [[name, 'openDevice'], [name, 'exec']] as const);

test.each(CASES)('%s (%s): a result or a typed error within the deadline', async (name, via) => {
  current = STREAMS[name]!;
  rand = seededRandom(99);
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<'hang'>((r) => (timer = setTimeout(() => r('hang'), 45_000)));
  const work = (async () => {
    let dev;
    try {
      dev = via === 'openDevice'
        ? await openDevice({ connection: `socket://127.0.0.1:${port}`, profile: loadProfile('openmv-h7'), readyTimeoutMs: 3000, timeoutMs: 3000 })
        : await openRaw();
      return { out: await dev.exec('print(1)', { timeoutMs: 3000 }) };
    } catch (e) {
      return { err: e };
    } finally {
      await dev?.close().catch(() => undefined);
    }
  })();
  const r = await Promise.race([work, watchdog]);
  clearTimeout(timer);
  expect(r).not.toBe('hang');
  const res = r as { out?: string; err?: unknown };
  if (res.err !== undefined) {
    expect(`${(res.err as Error)?.name}: ${(res.err as Error)?.message}`.split('\n')[0]).toMatch(/Error/);
    expect(res.err).toBeInstanceOf(HilError);
  } else {
    // A result is only acceptable if it is exactly what this double printed as the program's output.
    const want = name === 'huge output' ? 'x'.repeat(2_000_000) : '1';
    expect(res.out?.trim() === want).toBe(true);
  }
}, 60_000);
