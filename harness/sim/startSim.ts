/**
 * Start a simulated OpenMV cam: real MicroPython (WebAssembly) behind a pty or a TCP port, with
 * the firmware personality of the profile's board (its port's `vfs.rom_ioctl`, in the released or
 * master API generation) and each ROMFS segment kept in a file. hil reaches it through the same
 * serial/TCP code path as a real board. See boardProcess.ts (the board), supervisor.ts (link and
 * resets), and harness/board/sim/*.py (the board's Python: common shims and one module per port).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { makeTempDir } from '../lifecycle/tempDir.js';
import type { Scope } from '../lifecycle/scope.js';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { loadProfile, FIRMWARE_APIS, MPY_ARCHS, type BoardProfile, type FirmwareApi, type PartitionSpec } from '../profile/profile.js';
import { SimError } from './errors.js';
import type { BoardConfig, SimIdentity, SimMlFault, SimNpu } from './config.js';
import type { SupervisorConfig } from './supervisor.js';

export interface StartSimOptions {
  /** Profile name or object: partition geometry, alignment rules, flash medium. */
  profile: string | BoardProfile;
  link?: 'pty' | 'tcp';
  /** Segment 0's backing file; created (erased) when missing, kept across runs. */
  romfsFile?: string;
  /** Backing files of further segments (segment 1 at [0]); default `romfsN.bin` in the work dir. */
  segmentFiles?: string[];
  /** An image to put at the start of segment 0 before boot (overwrites romfsFile's contents). */
  image?: Uint8Array;
  /**
   * The ROM-ioctl API generation the simulated firmware has: `released` (what every OpenMV
   * release ships) or `master`. Default: the profile's `firmware.api`.
   */
  firmwareApi?: FirmwareApi;
  /** rom_ioctl erase and write return -EIO (a board that cannot write). */
  failWrites?: boolean;
  /**
   * Test-only: make the simulated `ml` misbehave like a known firmware defect. `stale`: a model
   * runs the network of the model loaded before it (the stale-cache class of openmv PR 3276).
   */
  mlFault?: SimMlFault;
  /**
   * stm32 personalities: the firmware runs with `pyb.fault_debug(True)`, so a HardFault prints
   * its register dump and the board stops until it is reset from outside; without it (the
   * firmware's default) a HardFault resets the MCU at once, printing nothing
   * (micropython ports/stm32/stm32_it.c, HardFault_C_Handler).
   */
  faultDebug?: boolean;
  /** machine.unique_id() as hex (default: derived from the profile's name): another board of the same kind. */
  uniqueId?: string;
  /** Python run at power-on, like main.py (e.g. a loop that prints, to exercise Ctrl-C). */
  mainPy?: string;
  /** Override the profile's partition size (bytes). */
  partitionSize?: number;
  /** Where the link, config and (by default) partition file live; a temp dir when absent. */
  workDir?: string;
  /** TCP port for link 'tcp' (0 or absent: any free port). */
  port?: number;
  /** How long the link stays away after machine.reset() (default 300 ms). */
  resetDelayMs?: number;
  /** Deadline for the board to come up (default 20 s). */
  timeoutMs?: number;
  /** The command's scope: the board's processes and temp folder are released with it (signals, any exit). */
  scope?: Scope;
}

export interface SimBoard {
  /** What to connect to: the pty path or `socket://127.0.0.1:PORT`. */
  readonly connection: string;
  /** Segment 0's backing file. */
  readonly romfsFile: string;
  /** Every segment's backing file, by segment number. */
  readonly segmentFiles: string[];
  readonly firmwareApi: FirmwareApi;
  readonly profile: BoardProfile;
  readonly workDir: string;
  /** Make rom_ioctl erase/write fail (-EIO) or work again, while the board runs. */
  setFailWrites(on: boolean): Promise<void>;
  /**
   * Power cycle: the board process is killed and started again (the link drops and comes back,
   * as a cam's USB does); flash keeps its bytes. What brings back a board that crashed.
   */
  powerCycle(): Promise<void>;
  /** Segment 0's current bytes (the file always holds what the board's flash holds). */
  readPartition(): Uint8Array;
  /** A segment's current bytes. */
  readSegment(id: number): Uint8Array;
  stop(): Promise<void>;
}

/** The compiled board scripts: next to this module in dist/, else the repo's dist/ (tests from sources). */
export function simScriptDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  if (existsSync(join(here, 'supervisor.js'))) return here;
  let dir = here;
  for (let i = 0; i < 5; i++) {
    const cand = join(dir, 'dist', 'harness', 'sim');
    if (existsSync(join(cand, 'supervisor.js'))) return cand;
    dir = dirname(dir);
  }
  throw new SimError('the simulated board is not built: run `npm run build` (npm ci does it)');
}

export async function startSim(opts: StartSimOptions): Promise<SimBoard> {
  const profile = typeof opts.profile === 'string' ? loadProfile(opts.profile) : opts.profile;
  const link = opts.link ?? 'pty';
  const ownDir = !opts.workDir;
  // A folder of our own carries an owner file, so one a killed hil left is reclaimed by the next.
  const workDir = opts.workDir ? resolve(opts.workDir) : makeTempDir('hil-sim-');
  const removeOwnDir = () => {
    if (ownDir) rmSync(workDir, { recursive: true, force: true });
  };
  try {
    return await startIn(opts, profile, link, workDir, ownDir, removeOwnDir);
  } catch (e) {
    removeOwnDir(); // a failed start leaves nothing behind
    throw e;
  }
}

async function startIn(opts: StartSimOptions, profile: BoardProfile, link: 'pty' | 'tcp', workDir: string, ownDir: boolean, removeOwnDir: () => void): Promise<SimBoard> {
  const api = opts.firmwareApi ?? profile.firmware.api;
  if (!(FIRMWARE_APIS as readonly string[]).includes(api)) {
    throw new SimError(`simulated ${profile.name}: firmware API '${api}' is not one of ${FIRMWARE_APIS.join(', ')}`);
  }
  if (opts.uniqueId !== undefined && !/^(?:[0-9a-f]{2})+$/.test(opts.uniqueId)) {
    throw new SimError(`simulated ${profile.name}: uniqueId ${JSON.stringify(opts.uniqueId)} is not an even number of lowercase hex digits`);
  }
  const size = opts.partitionSize ?? profile.partition.size;
  const segments: PartitionSpec[] = profile.segments.map((s, i) => (i === 0 ? { ...s, size } : s));
  const romfsFile = resolve(opts.romfsFile ?? join(workDir, 'romfs0.bin'));
  const segmentFiles = [romfsFile, ...segments.slice(1).map((_, i) => resolve(opts.segmentFiles?.[i] ?? join(workDir, `romfs${i + 1}.bin`)))];
  if (opts.image && opts.image.length > size) {
    throw new SimError(`simulated ${profile.name}: image of ${opts.image.length} bytes does not fit the ${size}-byte partition`);
  }
  segments.forEach((seg, i) => {
    const file = segmentFiles[i]!;
    if ((i === 0 && opts.image) || !existsSync(file)) {
      // Blank flash reads 0xFF; MRAM has no erased state and reads 0x00.
      const part = Buffer.alloc(seg.size, seg.device === 'mram' ? 0x00 : 0xff);
      if (i === 0 && opts.image) part.set(opts.image, 0);
      writeFileSync(file, part);
    }
  });
  const failWritesFlag = join(workDir, 'fail-writes');
  if (opts.failWrites) writeFileSync(failWritesFlag, '1');
  else rmSync(failWritesFlag, { force: true });
  const total = segments.reduce((n, s) => n + s.size, 0);
  const board: BoardConfig = {
    name: profile.name,
    banner: `MicroPython (hil simulated board, not hardware) ${profile.description}`,
    firmware: { port: profile.firmware.port, api },
    segments,
    segmentFiles,
    alignModels: profile.align.models,
    modelFormat: profile.modelFormat,
    npu: simNpu(profile),
    mlFault: opts.mlFault,
    faultDebug: opts.faultDebug,
    failWritesFlag,
    mainPy: opts.mainPy,
    heapSize: Math.min(total + 32 * 1024 * 1024, 512 * 1024 * 1024),
    identity: simIdentity(profile),
    ...(opts.uniqueId ? { uniqueId: opts.uniqueId } : {}),
  };
  const boardConfig = join(workDir, 'board.json');
  writeFileSync(boardConfig, JSON.stringify(board));
  const sup: SupervisorConfig = {
    boardConfig,
    link,
    linkPath: link === 'pty' ? join(workDir, 'tty') : undefined,
    port: opts.port,
    resetDelayMs: opts.resetDelayMs ?? 300,
  };
  const supConfig = join(workDir, 'supervisor.json');
  writeFileSync(supConfig, JSON.stringify(sup));

  const child = spawn(process.execPath, [join(simScriptDir(), 'supervisor.js'), supConfig], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  child.unref();
  (child.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
  const held = opts.scope?.child(child, `simulated ${profile.name}`);
  if (ownDir) opts.scope?.defer(`temp folder ${workDir}`, removeOwnDir, removeOwnDir);
  let connection: string;
  try {
    connection = await waitReady(child, opts.timeoutMs ?? 20000, profile.name);
  } catch (e) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw e;
  }

  let stopped = false;
  return {
    connection,
    romfsFile,
    segmentFiles,
    firmwareApi: api,
    profile,
    workDir,
    async setFailWrites(on: boolean) {
      if (on) writeFileSync(failWritesFlag, '1');
      else if (existsSync(failWritesFlag)) unlinkSync(failWritesFlag);
    },
    async powerCycle() {
      await new Promise<void>((res, rej) => {
        if (!child.connected) return rej(new SimError(`simulated ${profile.name}: its supervisor is gone`));
        const onMsg = (m: unknown) => {
          if ((m as { powered?: boolean }).powered) {
            child.off('message', onMsg);
            res();
          }
        };
        child.on('message', onMsg);
        child.send({ power: 'cycle' });
      });
    },
    readPartition() {
      return new Uint8Array(readFileSync(romfsFile));
    },
    readSegment(id: number) {
      const f = segmentFiles[id];
      if (f === undefined) throw new SimError(`simulated ${profile.name} has no segment ${id} (it has ${segmentFiles.length})`);
      return new Uint8Array(readFileSync(f));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopChild(child);
      await held?.release();
      removeOwnDir();
    },
  };
}

/**
 * The NPU runtime of the profile's board: the N6 runs ST NBIN networks (ST Edge AI), the AE3
 * (alif port) has an Ethos-U55; the others run TensorFlow Lite Micro on the CPU.
 */
export function simNpu(profile: BoardProfile): SimNpu | undefined {
  if (profile.modelFormat === 'nbin') return 'stai';
  if (profile.firmware.port === 'alif') return 'ethos-u';
  return undefined;
}

/** What the profile's board reports (sys.platform, _machine, _mpy), for the simulated board to report. */
export function simIdentity(profile: BoardProfile): SimIdentity {
  // sys.implementation._mpy = version | (sub-version 3 | arch << 2) << 8 (py/persistentcode.h, v6.3).
  const arch = Math.max(0, MPY_ARCHS.indexOf(profile.mpy.arch));
  return {
    platform: profile.identify.platform,
    machine: profile.identify.machine ?? `${profile.name} (hil simulated board)`,
    mpy: profile.mpy.version | ((3 | (arch << 2)) << 8),
    uname: profile.firmware.port !== 'qemu',
  };
}

function waitReady(child: ChildProcess, timeoutMs: number, name: string): Promise<string> {
  return new Promise((resolveP, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new SimError(`simulated ${name} did not come up within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      rl.close();
    };
    rl.on('line', (line) => {
      if (line.startsWith('READY ')) {
        done();
        resolveP(line.slice(6).trim());
      } else if (line.startsWith('ERROR ')) {
        done();
        reject(new SimError(`simulated ${name}: ${line.slice(6)}`));
      }
    });
    child.on('exit', (code) => {
      done();
      reject(new SimError(`simulated ${name}: supervisor exited with ${code} before the board came up`));
    });
    child.on('error', (e) => {
      done();
      reject(new SimError(`simulated ${name}: cannot start (${e.message})`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      res();
    });
    child.kill('SIGTERM');
  });
}
