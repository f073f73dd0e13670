/**
 * rfc2217:// against the real thing: Debian's ser2net (4.x, `accepter: telnet(rfc2217)`)
 * exporting the simulated board's pty on a loopback port (harness/transport/rfc2217/ser2net.ts).
 * Device operations (exec, tracebacks, sealed answers, binary frames full of 0xFF, resets),
 * servers that are not RFC 2217 ports, `hil flash` with hash verification, `hil run
 * scenarios/model-load`, and a subset of the fault matrix with the fault proxy in front of ser2net.
 * Every ser2net and sim a test starts is stopped in afterEach/afterAll (and guarded: it dies
 * with this process). Skipped with a printed reason when ser2net is not installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { openDevice, ReplDevice } from '../../harness/device/index.js';
import type { Device } from '../../harness/device/types.js';
import { startSim, type SimBoard } from '../../harness/sim/index.js';
import { FaultProxy } from '../../harness/fault/faultProxy.js';
import { runOnceCases, caseImage } from '../../harness/device/runOnce.cases.js';
import { ser2netVersion, startSer2net, type Ser2net } from '../../harness/transport/rfc2217/ser2net.js';
import { RemotePortBusyError, Rfc2217Transport } from '../../harness/transport/rfc2217/index.js';
import { OPT_BINARY, OPT_COM_PORT } from '../../harness/transport/rfc2217/telnet.js';
import { LinkOpenError, LinkTimeoutError } from '../../harness/transport/errors.js';
import { DeviceExceptionError } from '../../harness/repl/errors.js';
import { defaultHil, runHil } from '../../harness/fault/spawnHil.js';
import { runFlashMatrix } from '../../harness/fault/flashMatrix.js';
import { runRunMatrix } from '../../harness/fault/runMatrix.js';

const root = resolve(new URL('../..', import.meta.url).pathname);
const version = ser2netVersion();
const built = existsSync(join(root, 'dist/harness/sim/index.js'));
if (!version) console.log('rfc2217 ser2net tests skipped: ser2net is not installed (Debian: apt-get install ser2net)');
else if (!built) console.log('rfc2217 ser2net tests skipped: run `npm run build` first (the sim and the CLI run from dist/)');
const maybe = version && built ? describe : describe.skip;

const demo = new Uint8Array(readFileSync(join(root, 'test/fixtures/romfs/demo.mpremote.img')));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const live: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of live.splice(0).reverse()) await o.close().catch(() => undefined);
});

async function exported(opts: { image?: Uint8Array; mode?: 'rfc2217' | 'telnet' | 'raw' } = {}): Promise<[SimBoard, Ser2net]> {
  const b = await startSim({ profile: 'openmv-h7', image: opts.image ?? demo });
  live.push({ close: () => b.stop() });
  const s = await startSer2net({ device: b.connection, mode: opts.mode });
  live.push({ close: () => s.stop() });
  return [b, s];
}
async function open(connection: string): Promise<Device> {
  const d = await openDevice({ connection, profile: 'openmv-h7', name: 'remotecam' });
  live.push(d);
  return d;
}
const processAlive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');

maybe(`device layer through ser2net (${version ?? ''})`, () => {
  it('negotiates BINARY both ways and COM-PORT-OPTION, and runs programs with tracebacks typed', async () => {
    const [, s] = await exported();
    const d = await open(s.connection);
    const t = (d as ReplDevice).transport as Rfc2217Transport;
    expect(t).toBeInstanceOf(Rfc2217Transport);
    expect([t.optionState('us', OPT_COM_PORT), t.optionState('us', OPT_BINARY), t.optionState('him', OPT_BINARY)]).toEqual(['yes', 'yes', 'yes']);
    expect(await d.execRaw('print(1)\nprint(2)')).toEqual({ stdout: '1\n2\n', stderr: '' });
    const err = await d.exec('import nosuchmodule').catch((e) => e);
    expect(err).toBeInstanceOf(DeviceExceptionError);
    expect(await d.evalJson("{'a': [1, 2]}")).toEqual({ a: [1, 2] });
    expect(t.signature).toBe('ser2net');
    expect(t.notes).toEqual([]);
  });

  it('carries every byte value both ways (0xFF is telnet IAC): binary frames and board output', async () => {
    const [, s] = await exported();
    const d = await open(s.connection);
    // All 256 values, 0xFF runs and CR NUL pairs, through the binary channel (hashed on the board).
    const data = new Uint8Array(24000);
    for (let i = 0; i < data.length; i++) data[i] = i % 3 === 0 ? 0xff : i % 5 === 0 ? 13 : i % 7 === 0 ? 0 : (i * 131 + 7) & 0xff;
    const recv = { setup: 'import hashlib\n_h = hashlib.sha256()\ndef _sink(mv, off):\n    _h.update(mv)', sink: '_sink', finish: 'import binascii\nprint(binascii.hexlify(_h.digest()).decode())' };
    const r = await d.sendBinary(recv, data, { chunkSize: 2048 });
    expect(r.finishOutput.trim()).toBe(sha256(data));
    // And from the board: bytes 0..255 written raw to stdout.
    const out = await d.execRaw('import sys\nsys.stdout.buffer.write(bytes(range(256)) + bytes([255, 255, 13, 0]))');
    expect(Buffer.from(out.stdout, 'latin1').length).toBeGreaterThan(0);
    const rx = Buffer.concat((d as ReplDevice).transcript.records.filter((x) => x.dir === 'rx').map((x) => x.data));
    const want = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([255, 255, 13, 0])]);
    expect(rx.includes(want)).toBe(true);
  });

  it('soft and hard resets: the board comes back behind ser2net (the pty is recreated, ser2net reopens it)', async () => {
    const [, s] = await exported();
    const d = await open(s.connection);
    await d.softReset();
    expect(await d.evalJson("__import__('os').listdir('/rom')")).toContain('model.tflite');
    await d.exec('import sys\nsys.marker = 1');
    await d.hardReset();
    expect(await d.exec("import sys\nprint(hasattr(sys, 'marker'))")).toBe('False\n');
  });

  it('a deadline past a busy board, then DTR/RTS, break and purge: the link keeps working', async () => {
    const [, s] = await exported();
    const d = await open(s.connection);
    const err = await d.exec('import time\ntime.sleep(30)', { timeoutMs: 700 }).catch((e) => e);
    expect(err).toBeInstanceOf(LinkTimeoutError);
    expect(await d.exec('print("recovered")')).toBe('recovered\n');
    const t = (d as ReplDevice).transport as Rfc2217Transport;
    await t.setSignals({ dtr: false, rts: false });
    await t.setSignals({ dtr: true, rts: true });
    await t.sendBreak(50);
    await t.purge();
    (d as ReplDevice).repl.inRaw = false; // the purge may have eaten the prompt: enter again
    expect(await d.exec('print("still here")')).toBe('still here\n');
  });
});

/**
 * Can strace attach to a process that is not its child (as it must to ser2net)? Needs strace, root,
 * and ptrace allowed (a container without CAP_SYS_PTRACE, or Yama ptrace_scope, refuses it): tried
 * on a sibling `sleep`, as the test does on ser2net.
 */
function straceCanAttach(): boolean {
  if (process.getuid?.() !== 0 || spawnSync('strace', ['-V']).status !== 0) return false;
  const r = spawnSync('sh', ['-c', 'sleep 5 & p=$!; strace -p $p -e trace=none -o /dev/null 2>&1 & s=$!; sleep 0.3; kill $p 2>/dev/null; wait $s; echo "rc=$?"'], { encoding: 'utf8', timeout: 10_000 });
  return /attached/.test(r.stdout ?? '') && /rc=0/.test(r.stdout ?? '');
}
const strace = straceCanAttach();
if (version && !strace) console.log('ser2net socket-option test skipped: it attaches strace to ser2net (needs strace, root and ptrace allowed)');

/** The setsockopt calls ser2net (pid) makes while `during` runs, seen by strace attached to it. */
async function setsockoptCalls(pid: number, during: () => Promise<void>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hil-strace-'));
  const file = join(dir, 'trace.txt');
  const st = spawn('strace', ['-f', '-p', String(pid), '-e', 'trace=setsockopt', '-o', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    let said = '';
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`strace did not attach to ${pid}: ${said}`)), 10_000);
      st.stderr!.on('data', (d: Buffer) => {
        said += d.toString();
        if (/attached/.test(said)) {
          clearTimeout(t);
          res();
        }
      });
      st.once('exit', () => {
        clearTimeout(t);
        rej(new Error(`strace ended: ${said}`));
      });
    });
    await during();
  } finally {
    const gone = new Promise<void>((r) => (st.exitCode !== null ? r() : st.once('exit', () => r())));
    st.kill('SIGINT');
    await gone;
  }
  const text = readFileSync(file, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return text;
}

(version && built && strace ? describe : describe.skip)('the ser2net configuration hil runs (and README documents)', () => {
  it('TCP_NODELAY on the accepted connection (ser2net turns it off by default: Nagle would hold the second piece of an answer) and 4096-byte buffers', async () => {
    const [, s] = await exported();
    expect(s.config).toContain('accepter: telnet(rfc2217),tcp(nodelay),127.0.0.1,');
    expect(s.config).toMatch(/dev-to-net-bufsize: 4096\n\s+net-to-dev-bufsize: 4096/);
    const calls = await setsockoptCalls(s.pid, async () => {
      const d = await open(s.connection);
      expect(await d.exec('print(6*7)')).toBe('42\n');
      await d.close();
    });
    const nodelay = calls.split('\n').filter((l) => /TCP_NODELAY/.test(l));
    expect(nodelay.length).toBeGreaterThan(0);
    expect(nodelay.every((l) => /TCP_NODELAY, \[1\]/.test(l))).toBe(true);
  });
});

maybe('ports that are not RFC 2217 ports', () => {
  it('ser2net in plain telnet mode (no rfc2217): refused COM-PORT-OPTION, one clear error, at once', async () => {
    const [, s] = await exported({ mode: 'telnet' });
    const url = s.connection; // rfc2217:// to a telnet accepter without COM-PORT-OPTION
    const t0 = Date.now();
    const err = await openDevice({ connection: url, profile: 'openmv-h7', readyTimeoutMs: 8000 }).catch((e) => e);
    expect(err).toBeInstanceOf(LinkOpenError);
    expect(err.message).toMatch(/refused COM-PORT-OPTION: not an RFC 2217 port/);
    expect(Date.now() - t0).toBeLessThan(8000);
  });

  it('ser2net in raw mode reached with rfc2217://: data without telnet, one error naming socket://, not retried', async () => {
    const [, s] = await exported({ mode: 'raw' });
    const url = s.connection.replace('socket://', 'rfc2217://');
    const err = await openDevice({ connection: url, profile: 'openmv-h7', readyTimeoutMs: 15000 }).catch((e) => e);
    expect(err).toBeInstanceOf(LinkOpenError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(`${url}: the server sends data but no telnet negotiation: a raw TCP port, not RFC 2217 (use ${s.connection})`);
  });

  it('a silent TCP port: the negotiation deadline ends the open (infrastructure error, exit 3)', async () => {
    const { createServer } = await import('node:net');
    const conns = new Set<import('node:net').Socket>();
    const srv = createServer((c) => {
      conns.add(c);
      c.on('error', () => undefined);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    live.push({
      close: () =>
        new Promise<void>((r) => {
          for (const c of conns) c.destroy();
          srv.close(() => r());
        }),
    });
    const port = (srv.address() as { port: number }).port;
    const t = new Rfc2217Transport('127.0.0.1', port, { answerMs: 500 });
    const err = await t.open(1500).catch((e) => e);
    await t.close();
    expect(err).toBeInstanceOf(LinkTimeoutError);
    expect(err.message).toMatch(/no telnet negotiation answer/);
  });

  it('a port another client holds: RemotePortBusyError (exit 3) for the second, the first keeps working', async () => {
    const [, s] = await exported();
    const d = await open(s.connection);
    const t0 = Date.now();
    const err = await new Rfc2217Transport('127.0.0.1', s.port).open(10000).catch((e) => e);
    expect(err).toBeInstanceOf(RemotePortBusyError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(`${s.connection}: the remote serial port is in use by another client (the server said "Port already in use")`);
    expect(Date.now() - t0).toBeLessThan(8000); // retried briefly, not to the deadline
    expect(await d.exec('print("first")')).toBe('first\n');
  });

  it('nothing listening: refused at once', async () => {
    const s = await startSer2net({ device: '/nonexistent/tty' });
    const url = s.connection;
    await s.stop();
    expect(processAlive(s.pid)).toBe(false);
    const err = await new Rfc2217Transport('127.0.0.1', s.port).open(5000).catch((e) => e);
    expect(err).toBeInstanceOf(LinkOpenError);
    expect(err.message).toBe(`${url}: connection refused (nothing listens there)`);
  });
});

maybe('sealed answers and run-once through the fault proxy in front of ser2net', () => {
  let board: SimBoard;
  let s2n: Ser2net;
  let proxy: FaultProxy;
  let device: Device;
  beforeAll(async () => {
    board = await startSim({ profile: 'openmv-h7', image: caseImage() });
    s2n = await startSer2net({ device: board.connection });
    proxy = await FaultProxy.start({ upstream: `socket://127.0.0.1:${s2n.port}`, seed: 7 });
    device = await openDevice({ connection: proxy.connection.replace('socket:', 'rfc2217:'), profile: 'openmv-h7', name: 'remotecam' });
  });
  afterAll(async () => {
    await device?.close();
    await proxy?.close();
    await s2n?.stop();
    await board?.stop();
    expect(processAlive(s2n.pid)).toBe(false);
  });
  runOnceCases({ device: () => device, proxy: () => proxy });
});

maybe('the CLI through ser2net', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hil-rfc2217-cli-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const hil = (args: string[]) => runHil(defaultHil(), args, new AbortController().signal);

  it('hil flash: the partition holds the image and the verified hash is the image\'s', async () => {
    const [b, s] = await exported({ image: new Uint8Array(0) });
    const image = join(root, 'test/fixtures/romfs/micropython-random.img');
    const bytes = new Uint8Array(readFileSync(image));
    const r = await hil(['flash', image, '--device', s.connection, '--profile', 'openmv-h7', '--force', '--json']);
    expect(r.stderr.trim().split('\n').pop() ?? '').not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as { verifiedSha256?: string };
    expect(report.verifiedSha256).toBe(sha256(bytes));
    expect(sha256(b.readPartition().subarray(0, bytes.length))).toBe(sha256(bytes));
  }, 120_000);

  it('hil run scenarios/model-load passes (exit 0) with every check passed (inference: simulated)', async () => {
    const [, s] = await exported({ image: new Uint8Array(0) });
    const json = join(tmp, 'run.json');
    const r = await hil(['run', join(root, 'scenarios/model-load'), '--device', s.connection, '--profile', 'openmv-h7', '--json', json, '--quiet']);
    expect(r.stderr).toBe(r.code === 0 ? r.stderr : '');
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { devices: { scenarios: { flash?: { written?: boolean }; checks: { name: string; status: string }[] }[] }[] };
    const sc = report.devices[0]!.scenarios[0]!;
    expect(sc.flash?.written).toBe(true);
    expect(sc.checks.map((c) => c.name)).toEqual(['listing', 'imports', 'models.placement', 'models.inference']);
    expect(sc.checks.filter((c) => c.status !== 'passed' && c.status !== 'simulated')).toEqual([]);
  }, 180_000);

  it('bench file with rfc2217:// devices: hil devices says which answer', async () => {
    const [, s] = await exported();
    const bench = join(tmp, 'bench.yaml');
    writeFileSync(
      bench,
      `devices:\n  near: { profile: openmv-h7, connection: ${s.connection} }\n  gone: { profile: openmv-h7, connection: rfc2217://127.0.0.1:1 }\n  far: { profile: openmv-h7, connection: rfc2217://192.0.2.1:7001 }\n`,
    );
    // (no wall-clock assertion: the per-device deadline is what ends 'far'; this test's own
    // jest timeout is the bound on a hang, and its detail says which deadline it was)
    const r = await hil(['devices', '--inventory', bench, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as { inventory: { name: string; reachable?: { ok: boolean; detail: string } }[] };
    const by = Object.fromEntries(j.inventory.map((d) => [d.name, d.reachable]));
    expect(by.near).toEqual({ ok: true, detail: expect.stringMatching(/RFC 2217 port \(ser2net\)/) });
    expect(by.gone).toEqual({ ok: false, detail: expect.stringMatching(/connection refused/) });
    expect(by.far?.ok).toBe(false); // TEST-NET-1: never answers; the per-device deadline ends it
  }, 60_000);
});

maybe('fault matrix through the fault proxy in front of ser2net (subset)', () => {
  it('hil flash: connect, mid-transfer and verification faults: no false pass, no hang, failures are exit 3', async () => {
    const { outcomes } = await runFlashMatrix({
      image: join(root, 'test/fixtures/romfs/micropython-random.img'),
      repeats: 1,
      seed: 5,
      watchdogMs: 60_000,
      phases: ['connect', 'raw-REPL entry', 'mid-transfer', 'verification'],
      link: 'rfc2217',
    });
    // One action per phase (drop, corrupt, stall, duplicate: the matrix rotates them).
    expect(outcomes.map((o) => `${o.phase}/${o.action}`)).toEqual(['connect/drop', 'raw-REPL entry/corrupt', 'mid-transfer/stall', 'verification/duplicate']);
    expect(outcomes.filter((o) => !o.fired)).toEqual([]);
    expect(outcomes.filter((o) => o.result === 'false-pass' || o.result === 'hang')).toEqual([]);
    expect(outcomes.filter((o) => o.result === 'other-error').map((o) => `${o.phase}/${o.action}: ${o.message}`)).toEqual([]);
  }, 400_000);

  it('hil run: faults on the listing answer, good and misaligned image: the true verdict or exit 3 with a phase', async () => {
    const { outcomes } = await runRunMatrix({ repeats: 3, seed: 11, watchdogMs: 60_000, phases: ['mid-exec'], link: 'rfc2217' });
    expect(outcomes).toHaveLength(3);
    expect(outcomes.filter((o) => !o.fired)).toEqual([]);
    const bad = outcomes.filter((o) => o.result !== 'passed' && o.result !== 'infra');
    expect(bad.map((o) => `${o.action} (${o.variant}): ${o.result} ${o.message ?? ''}`)).toEqual([]);
    expect(outcomes.filter((o) => o.result === 'infra' && !o.errorPhase)).toEqual([]);
  }, 400_000);
});
