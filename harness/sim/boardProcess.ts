/**
 * The simulated board's process: the real MicroPython interpreter (WebAssembly build from npm)
 * whose stdin/stdout are the serial line, as a UART is on a real cam. Started by the supervisor
 * (supervisor.ts) with a JSON config path as its only argument.
 *
 * Exits: 0 when the link closed (EOF); killed by its own SIGKILL on machine.reset() (the
 * supervisor brings the board back).
 */
import { readFileSync, writeSync, existsSync, openSync, fstatSync, ftruncateSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { loadMicroPython, type MicroPython } from '@micropython/micropython-webassembly-pyscript';
import { InputRing } from './inputRing.js';
import { RawPaste } from './rawPaste.js';
import { boardSource, paramsLine } from '../board/program.js';
import { mountVfsRom, VfsRomError, type VfsRom, type VfsRomEntry } from '../romfs/vfsRom.js';
import { readModelIo } from '../model/io.js';
import type { BoardConfig } from './config.js';

const PYEXEC_FORCED_EXIT = 0x100;

const cfg = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as BoardConfig;
const ring = new InputRing();
new Worker(new URL('./stdinReader.js', import.meta.url), { workerData: { sab: ring.sab } }).unref();

// ---- output: buffered, flushed before every wait and after every input byte -----------------
let outBuf: number[] = [];
let mute = false;
/**
 * Bytes of the acknowledgement still to come: the end of code typed in plain raw mode was just
 * given to the REPL, and the `OK` it prints first leaves at once, before the code runs, as on a
 * firmware (micropython shared/runtime/pyexec.c: pyexec_raw_repl, and the event-driven
 * pyexec_raw_repl_process_char the wasm port runs, write it before parse_compile_execute).
 * Without this a program that never yields (a busy loop) would hold the acknowledgement in the
 * buffer, which no board does.
 */
let acking = 0;
/** `OK` (the wasm port prints it a byte at a time). */
const ACK_BYTES = 2;
function outByte(c: number): void {
  if (mute || rawPaste.drops(c)) return;
  outBuf.push(c);
  if (outBuf.length >= 4096) flush();
}
/** What the interpreter prints (stdout and stderr alike). */
function printed(b: Uint8Array): void {
  for (const c of b) outByte(c);
  if (acking > 0) {
    acking -= b.length;
    if (acking <= 0) flush();
  }
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

/**
 * The board crashed (a HardFault in the firmware): print what its fault handler prints, then
 * never answer again. Everything the host sends is read and dropped (Ctrl-C, Ctrl-D included),
 * as by a core spinning in its fault loop, until the board is reset from outside (power cycle:
 * the supervisor kills and restarts this process) or the link closes.
 */
function crashNow(text: string): never {
  outBytes(text);
  flush();
  for (;;) {
    if (!ring.waitForData(1000)) {
      if (ring.eof()) exitOnEof();
      continue;
    }
    ring.take(ring.available());
  }
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

/** The raw-paste side of the raw REPL (rawPaste.ts), reading the line one byte at a time. */
const rawPaste = new RawPaste({
  readByte: () => {
    flush();
    while (!ring.waitForData(1000)) if (ring.eof()) exitOnEof();
    return ring.take(1)[0]!;
  },
  write: (b) => outBytes(b),
  flush,
});

// ---- the ROMFS segments and /rom ------------------------------------------------------------
/**
 * Each segment's bytes, always equal to its backing file: the board's Python applies an erase or
 * a write to its own copy and sends the changed bytes here (`_simhw.fill`/`store`), which writes
 * them into the file at once. So a soft reset never undoes an erase, and a board killed mid-way
 * leaves on "flash" what a cam would have.
 */
class SegmentStore {
  readonly bytes: Buffer;
  private readonly fd: number;
  constructor(file: string, size: number, blank: number) {
    this.fd = openSync(file, existsSync(file) ? 'r+' : 'w+');
    this.bytes = Buffer.alloc(size, blank);
    const have = Math.min(size, fstatSync(this.fd).size);
    if (have > 0) readFileSync(file).copy(this.bytes, 0, 0, have);
    if (have !== size) {
      ftruncateSync(this.fd, 0);
      this.writeThrough(0, size);
    }
  }
  store(off: number, data: Buffer): void {
    data.copy(this.bytes, off);
    this.writeThrough(off, data.length);
  }
  fill(off: number, n: number, value: number): void {
    this.bytes.fill(value, off, off + n);
    this.writeThrough(off, n);
  }
  replace(data: Uint8Array): void {
    this.bytes.set(data.subarray(0, this.bytes.length));
    this.writeThrough(0, this.bytes.length);
  }
  private writeThrough(off: number, n: number): void {
    let done = 0;
    while (done < n) done += writeSync(this.fd, this.bytes, off + done, n - done, off + done);
  }
}

// MRAM has no erased state (it reads 0x00 blank: Alif's MRAM erase writes zeros); flash reads 0xFF.
const segments = cfg.segments.map((s, i) => new SegmentStore(cfg.segmentFiles[i]!, s.size, s.device === 'mram' ? 0x00 : 0xff));

type Mp = MicroPython;

/**
 * The board's VfsRom mounts, answered by hil's model of the firmware's reader over the live
 * segment bytes (harness/romfs/vfsRom.ts); the Python side (harness/board/sim/romvfs.py) turns
 * the answers into what VfsRom's methods return. Every answer is JSON; an error is
 * `{"error": errno name}` (or 'hang', which the board turns into a hang).
 */
class RomMounts {
  private mounts: VfsRom[] = [];
  private listings: (Iterator<VfsRomEntry> | undefined)[] = [];
  reset(): void {
    this.mounts = [];
    this.listings = [];
  }
  private answer(f: () => unknown): string {
    try {
      return JSON.stringify(f() ?? null);
    } catch (e) {
      if (e instanceof VfsRomError) return JSON.stringify({ error: e.errno });
      throw e;
    }
  }
  /** vfs.VfsRom over `n` bytes of a segment from `off` (what follows in the segment is read past the buffer, as on flash). */
  mountSegment(i: number, off: number, n: number): string {
    const seg = segments[i]!;
    const bytes = seg.bytes;
    return this.answer(() => {
      const m = mountVfsRom(bytes.subarray(off), {
        address: (cfg.segments[i]!.origin + off) >>> 0,
        bufferLength: n,
        beyond: (o) => (off + o >= 0 && off + o < bytes.length ? bytes[off + o]! : 0xff),
      });
      return this.mounts.push(m) - 1;
    });
  }
  /** vfs.VfsRom over a buffer of the board's RAM (its bytes given). */
  mountBytes(hex: string, address: number): string {
    return this.answer(() => this.mounts.push(mountVfsRom(new Uint8Array(Buffer.from(hex, 'hex')), { address: address >>> 0 })) - 1);
  }
  ilistdir(h: number, pathHex: string): string {
    return this.answer(() => this.listings.push(this.mounts[h]!.ilistdir(Buffer.from(pathHex, 'hex'))) - 1);
  }
  next(it: number): string {
    return this.answer(() => {
      const r = this.listings[it]!.next();
      if (r.done) {
        this.listings[it] = undefined;
        return null;
      }
      return { n: Buffer.from(r.value.name).toString('hex'), d: r.value.type === 'dir', s: r.value.size };
    });
  }
  stat(h: number, pathHex: string): string {
    return this.answer(() => {
      const st = this.mounts[h]!.stat(Buffer.from(pathHex, 'hex'));
      return { d: st.type === 'dir', s: st.size };
    });
  }
  statvfs(h: number): string {
    return this.answer(() => this.mounts[h]!.payload.length);
  }
  open(h: number, pathHex: string): string {
    return this.answer(() => {
      const f = this.mounts[h]!.open(Buffer.from(pathHex, 'hex'));
      return { o: f.offset, s: f.size, l: f.length, x: f.outside };
    });
  }
  read(h: number, offset: number, n: number): string {
    return Buffer.from(this.mounts[h]!.read(offset, n)).toString('hex');
  }
}
const romMounts = new RomMounts();

/** The board's Python modules: the common half with its parameters, and the personality modules. */
const BOARD_MODULES = ['ml', 'segment', 'nor', 'romvfs', 'romioctl', 'stm32_flash', 'stm32_qspi', 'stm32_xspi', 'alif', 'mimxrt', 'qemu'];
const boardParams = {
  identity: cfg.identity,
  port: cfg.firmware.port,
  api: cfg.firmware.api,
  segments: cfg.segments,
  alignModels: cfg.alignModels,
  npu: cfg.npu ?? null,
  mlFault: cfg.mlFault ?? null,
  faultDebug: cfg.faultDebug ?? false,
  uid: cfg.uniqueId ?? createHash('sha256').update(cfg.name).digest('hex').slice(0, 24),
};

// ---- boot -------------------------------------------------------------------------------------
let rawMode = false;

async function boot(kind: 'power-on' | 'soft'): Promise<Mp> {
  intrChar = 3;
  softResetRequested = false;
  const mp = await loadMicroPython({
    stdout: (b) => printed(b as Uint8Array),
    stderr: (b) => printed(b as Uint8Array),
    linebuffer: false,
    heapsize: cfg.heapSize,
  });
  mp.FS.mkdir('/.sim');
  segments.forEach((s, i) => mp.FS.writeFile(`/.sim/seg${i}`, s.bytes));
  romMounts.reset();
  mp.registerJsModule('_simhw', {
    rom_mount: (i: number, off: number, n: number) => romMounts.mountSegment(i, off, n),
    rom_mount_bytes: (hex: string, address: number) => romMounts.mountBytes(hex, address),
    rom_ilistdir: (h: number, path: string) => romMounts.ilistdir(h, path),
    rom_next: (it: number) => romMounts.next(it),
    rom_stat: (h: number, path: string) => romMounts.stat(h, path),
    rom_statvfs: (h: number) => romMounts.statvfs(h),
    rom_open: (h: number, path: string) => romMounts.open(h, path),
    rom_read: (h: number, offset: number, n: number) => romMounts.read(h, offset, n),
    store: (i: number, off: number, hex: string) => { segments[i]!.store(off, Buffer.from(hex, 'hex')); return 0; },
    fill: (i: number, off: number, n: number, value: number) => { segments[i]!.fill(off, n, value); return 0; },
    persist: (i: number) => {
      const p = `/.sim/seg${i}`;
      segments[i]!.replace(mp.FS.readFile(p));
      mp.FS.unlink(p);
      return 0;
    },
    fail_writes: () => existsSync(cfg.failWritesFlag),
    read: (n: number) => readBlocking(n),
    out: (hex: string) => { outBytes(Buffer.from(hex, 'hex')); return 0; },
    kbd_intr: (c: number) => { intrChar = c; return 0; },
    sleep: (ms: number) => sleepMs(ms),
    reset: () => resetNow(),
    soft_reset: () => { softResetRequested = true; return 0; },
    model_io_at: (i: number, off: number, n: number) => JSON.stringify(readModelIo(segments[i]!.bytes.subarray(off, off + n))),
    model_io_hex: (hex: string) => JSON.stringify(readModelIo(Buffer.from(hex, 'hex'))),
    crash: (text: string) => crashNow(text),
  });
  for (const m of BOARD_MODULES) mp.FS.writeFile(`/.sim/_sim_${m}.py`, boardSource(`sim/${m}`));
  mp.FS.writeFile('/.sim/_simboard.py', paramsLine(boardParams) + boardSource('sim/board'));
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

/** RAM segments keep what was written into them across a soft reset. */
function persistRam(mp: Mp): void {
  if (cfg.segments.some((s) => s.medium === 'ram')) {
    try {
      mp.runPython("import _simboard\n_simboard._persist()\n");
    } catch {
      /* nothing to keep */
    }
  }
}

async function main(): Promise<void> {
  let mp = await boot('power-on');
  for (;;) {
    if (!ring.waitForData(1000)) {
      if (ring.eof()) exitOnEof();
      continue;
    }
    const [c] = ring.take(1);
    const ch = c!;
    // Raw-paste is served by rawPaste.ts (the wasm REPL hangs in it); no raw-paste request, whole
    // or damaged on the link, ever reaches the wasm REPL.
    let r = rawPaste.take(ch, rawMode, mp);
    if (r === null) {
      if (ch === 0x01) rawMode = true;
      else if (ch === 0x02) rawMode = false;
      acking = rawMode && ch === 0x04 ? ACK_BYTES : 0;
      r = mp.replProcessChar(ch);
      acking = 0;
    }
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
