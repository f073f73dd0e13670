/**
 * The simulated board's process: the real MicroPython interpreter (WebAssembly build from npm)
 * whose stdin/stdout are the serial line, as a UART is on a real cam. Started by the supervisor
 * (supervisor.ts) with a JSON config path as its only argument.
 *
 * Exits: 0 when the link closed (EOF); killed by its own SIGKILL on machine.reset() (the
 * supervisor brings the board back).
 */
import { readFileSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { loadMicroPython, type MicroPython } from '@micropython/micropython-webassembly-pyscript';
import { InputRing } from './inputRing.js';
import { BOARD_PY } from './boardPython.js';
import { parseRomfs } from '../romfs/parse.js';
import { readModelIo } from './tflite.js';
import type { BoardConfig } from './config.js';

const PYEXEC_FORCED_EXIT = 0x100;

const cfg = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as BoardConfig;
const ring = new InputRing();
new Worker(new URL('./stdinReader.js', import.meta.url), { workerData: { sab: ring.sab } }).unref();

// ---- output: buffered, flushed before every wait and after every input byte -----------------
let outBuf: number[] = [];
let mute = false;
function outByte(c: number): void {
  if (mute) return;
  outBuf.push(c);
  if (outBuf.length >= 4096) flush();
}
function outBytes(b: Uint8Array | string): void {
  const bytes = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  for (const c of bytes) outByte(c);
}
function flush(): void {
  if (outBuf.length === 0) return;
  const b = Buffer.from(outBuf);
  outBuf = [];
  let off = 0;
  while (off < b.length) {
    try {
      off += writeSync(1, b, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
        continue;
      }
      process.exit(0); // the link is gone
    }
  }
}

// ---- input ---------------------------------------------------------------------------------
let intrChar = 3;
let softResetRequested = false;

/**
 * machine.reset(): leave at once. process.exit() would wait for the reader thread, which sits in
 * a blocking read of the serial line until the host sends something, so the board kills itself;
 * the supervisor reads a SIGKILL exit as a reset and brings the board back.
 */
function resetNow(): never {
  flush();
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

function exitOnEof(): never {
  flush();
  process.exit(0);
}

/** Blocking read of exactly n bytes; null when Ctrl-C interrupted (kbd_intr enabled). */
function readBlocking(n: number): string | null {
  const parts: Buffer[] = [];
  let got = 0;
  flush();
  while (got < n) {
    if (!ring.waitForData(1000)) {
      if (ring.eof()) exitOnEof();
      continue;
    }
    const b = Buffer.from(ring.take(n - got));
    if (intrChar >= 0) {
      const i = b.indexOf(intrChar);
      if (i >= 0) return null;
    }
    parts.push(b);
    got += b.length;
  }
  return Buffer.concat(parts).toString('hex');
}

/** Sleep that a Ctrl-C (when enabled) cuts short: returns true when interrupted. */
function sleepMs(ms: number): boolean {
  flush();
  const deadline = Date.now() + Math.max(0, ms);
  for (;;) {
    if (intrChar >= 0 && ring.available() > 0) {
      // Look for the interrupt character among what has arrived; consume through it.
      const n = ring.available();
      for (let i = 0; i < n; i++) {
        if (ring.peek(i) === intrChar) {
          ring.take(i + 1);
          return true;
        }
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) return false;
    const seen = ring.available();
    const until = Date.now() + Math.min(left, 20);
    while (ring.available() === seen && Date.now() < until) Atomics.wait(ring.hdr, 0, Atomics.load(ring.hdr, 0), until - Date.now());
  }
}

// ---- the ROMFS partition and /rom ------------------------------------------------------------
interface RomFile { offset: number; size: number }
let romFiles = new Map<string, RomFile>();

function readPartition(): Buffer {
  const buf = Buffer.alloc(cfg.partition.size, 0xff);
  if (existsSync(cfg.romfsFile)) readFileSync(cfg.romfsFile).copy(buf, 0, 0, cfg.partition.size);
  return buf;
}

type Mp = MicroPython;

function mountRom(mp: Mp, part: Buffer): boolean {
  romFiles = new Map();
  let img;
  try {
    img = parseRomfs(part);
  } catch {
    return false; // a corrupt image is skipped silently, as the firmware does
  }
  mp.FS.mkdir('/rom');
  for (const e of img.entries) {
    if (e.type === 'dir') mp.FS.mkdir(`/rom/${e.path.slice(0, -1)}`);
    else {
      mp.FS.writeFile(`/rom/${e.path}`, part.subarray(e.offset, e.offset + e.size));
      romFiles.set(`/rom/${e.path}`, { offset: e.offset, size: e.size });
    }
  }
  return true;
}

// ---- boot -------------------------------------------------------------------------------------
let rawMode = false;

async function boot(kind: 'power-on' | 'soft'): Promise<Mp> {
  intrChar = 3;
  softResetRequested = false;
  const mp = await loadMicroPython({
    stdout: (b) => { for (const c of b as Uint8Array) outByte(c); },
    stderr: (b) => { for (const c of b as Uint8Array) outByte(c); },
    linebuffer: false,
    heapsize: cfg.heapSize,
  });
  const part = readPartition();
  mp.FS.mkdir('/.sim');
  mp.FS.writeFile('/.sim/partition', part);
  const mounted = mountRom(mp, part);
  mp.registerJsModule('_simhw', {
    config: () => JSON.stringify({
      origin: cfg.partition.origin, size: cfg.partition.size, medium: cfg.partition.medium,
      eraseBlock: cfg.partition.eraseBlock ?? 4096, minWrite: cfg.partition.minWrite ?? 4,
      alignModels: cfg.alignModels, uid: createHash('sha256').update(cfg.name).digest('hex').slice(0, 24),
      identity: cfg.identity,
    }),
    mounted: () => mounted,
    rom_file: (p: string) => { const f = romFiles.get(p); return f ? `${f.offset},${f.size}` : null; },
    persist: () => { writeFileSync(cfg.romfsFile, mp.FS.readFile('/.sim/partition')); return 0; },
    fail_writes: () => existsSync(cfg.failWritesFlag),
    read: (n: number) => readBlocking(n),
    out: (hex: string) => { outBytes(Buffer.from(hex, 'hex')); return 0; },
    kbd_intr: (c: number) => { intrChar = c; return 0; },
    sleep: (ms: number) => sleepMs(ms),
    reset: () => resetNow(),
    soft_reset: () => { softResetRequested = true; return 0; },
    model_io: (p: string) => JSON.stringify(readModelIo(mp.FS.readFile(p))),
  });
  mp.FS.writeFile('/.sim/_simboard.py', BOARD_PY);
  mp.runPython("import sys\nsys.path.insert(0, '/.sim')\nimport _simboard\nif sys.path and sys.path[0] == '/.sim':\n    sys.path.pop(0)\ndel sys\n");
  if (kind === 'power-on') {
    outBytes(`\r\n${cfg.banner}\r\n`);
  }
  if (!rawMode && cfg.mainPy) {
    try {
      mp.runPython(cfg.mainPy);
    } catch (e) {
      const err = e as { type?: string; message?: string };
      outBytes(`Traceback (most recent call last):\r\n  File "main.py"\r\n${err.type ?? 'Exception'}: ${(err.message ?? '').trim()}\r\n`);
    }
  }
  mute = rawMode;
  mp.replInit();
  if (rawMode) {
    mp.replProcessChar(1);
    mute = false;
    outBytes('raw REPL; CTRL-B to exit\r\n>');
  }
  flush();
  return mp;
}

function persistRam(mp: Mp): void {
  if (cfg.partition.medium === 'ram') {
    try {
      mp.runPython("import _simboard\n_simboard._persist()\n");
    } catch {
      /* nothing to keep */
    }
  }
}

async function main(): Promise<void> {
  let mp = await boot('power-on');
  // Raw-paste request (Ctrl-E, 'A', Ctrl-A) progress: 0 none, 1 after Ctrl-E, 2 after 'A'.
  let pasteIdx = 0;
  for (;;) {
    if (!ring.waitForData(1000)) {
      if (ring.eof()) exitOnEof();
      continue;
    }
    const [c] = ring.take(1);
    const ch = c!;
    // The wasm REPL hangs on a raw-paste request; like the port's REPL it gives no answer. No
    // Ctrl-E reaches it in raw mode (a Ctrl-E doubled on the link must not get through either).
    if (rawMode && ch === 0x05) {
      pasteIdx = 1;
      continue;
    }
    if (rawMode && pasteIdx === 1 && ch === 0x41) {
      pasteIdx = 2;
      continue;
    }
    if (rawMode && pasteIdx === 2 && ch === 0x01) {
      pasteIdx = 0;
      continue;
    }
    pasteIdx = 0;
    if (ch === 0x01) rawMode = true;
    else if (ch === 0x02) rawMode = false;
    const r = mp.replProcessChar(ch);
    flush();
    if (r === PYEXEC_FORCED_EXIT || softResetRequested) {
      persistRam(mp);
      outBytes('MPY: soft reboot\r\n');
      flush();
      mp = await boot('soft');
    }
  }
}

main().catch((e) => {
  process.stderr.write(`simulated board crashed: ${(e as Error).stack}\n`);
  process.exit(1);
});
