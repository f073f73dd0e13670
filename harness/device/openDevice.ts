/**
 * Open a board from a connection string (and a profile, when known): the one entry point upper
 * layers use. On connect the board's identity is read once (harness/device/identify.ts): a given
 * profile the board contradicts stops here (exit 2, before any check or write); without a profile
 * the one matching profile is chosen (device.profileDetected says so).
 */
import { existsSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Scope } from '../lifecycle/scope.js';
import { makeTempDir } from '../lifecycle/tempDir.js';
import { loadAllProfiles, loadProfile, type BoardProfile, type FirmwareApi } from '../profile/profile.js';
import { UsageError } from '../errors.js';
import { BoardIdentityError, chooseProfile, readIdentity, type BoardIdentity, type ProfileChoice } from './identify.js';
import { SerialTransport } from '../transport/serialTransport.js';
import { TcpTransport } from '../transport/tcpTransport.js';
import { Rfc2217Transport } from '../transport/rfc2217/index.js';
import type { Transport } from '../transport/transport.js';
import { NoSuchPortError } from '../transport/errors.js';
import { parseConnection } from './connection.js';
import { QemuBoard } from './qemu.js';
import { ReplDevice } from './replDevice.js';
import type { Device } from './types.js';

export interface OpenDeviceOptions {
  connection: string;
  /**
   * The board's profile. Optional for a real board (serial, id:, socket://, rfc2217://): then it is chosen
   * from the board's identity. Required for `qemu` (which machine to start); `sim:PROFILE` names its own.
   */
  profile?: BoardProfile | string;
  /**
   * The profiles auto-detection chooses from (default: every profile in devices/profiles). A
   * function is called only when they are needed: no profile given, or one the board contradicts
   * (to name the profiles it matches).
   */
  profiles?: BoardProfile[] | (() => BoardProfile[]);
  name?: string;
  /** QEMU: firmware ELF (default HIL_QEMU_FIRMWARE). */
  firmware?: string;
  /** QEMU: ROMFS image (file path or bytes) loaded at the partition origin; sim: initial image. */
  image?: string | Uint8Array;
  /** sim: the ROM-ioctl API generation of the simulated firmware (default: the profile's, `released`). */
  simFirmwareApi?: FirmwareApi;
  /** Deadline to open the link and reach the raw REPL (ms). */
  readyTimeoutMs?: number;
  /** Default deadline of each operation (ms). */
  timeoutMs?: number;
  /** The command's scope: QEMU / the simulated board and their temp folders are released with it (signals, any exit). */
  scope?: Scope;
  /** Called with the device as soon as it exists, before it connects (its transcript is there when the connect fails). */
  onDevice?: (device: Device) => void;
  /** Called before every board operation; a throw stops it (the bench layer's lease fence). */
  beforeOperation?: () => Promise<void>;
  /**
   * Cuts the board's power and restores it, for a board whose power hil does not hold itself
   * (serial, id:, socket://, rfc2217://): the bench's `power:` switch (harness/bench/openTarget.ts
   * passes a uhubctl cycle). Resolves once the power is back; the device then reconnects. `qemu`
   * and `sim` boards use their own (QEMU restarted, the simulated board powered off and on).
   */
  powerCycle?: () => Promise<void>;
}

export async function openDevice(opts: OpenDeviceOptions & Record<string, unknown>): Promise<Device> {
  let profile = typeof opts.profile === 'string' ? loadProfile(opts.profile) : opts.profile;
  const conn = parseConnection(opts.connection);
  if (conn.kind === 'qemu' && !profile) throw new UsageError(`device qemu: give --profile (hil must know which machine to start: a qemu-* profile)`);
  if (conn.kind === 'sim' && !conn.profile && !profile) throw new UsageError('device sim: give --profile or sim:PROFILE (which board to simulate)');
  const name = opts.name ?? opts.connection;
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  let transport: Transport;
  let plainPauseMs: number | undefined;
  // A TCP port accepts while its board is away and loses what is sent then (rawRepl.ts enter).
  let retryWhenQuiet = conn.kind === 'tcp';
  let readyTimeoutMs = opts.readyTimeoutMs ?? 15000;
  let qemuRestart: ((imagePath: string, addr: number) => Promise<void>) | undefined;
  let powerCycle: (() => Promise<void>) | undefined;
  let device: ReplDevice | undefined;
  try {
    switch (conn.kind) {
      case 'serial':
        // Fail at once for a port that is not there (a board that is re-enumerating is waited
        // for only after a reset, by the device itself).
        if (!existsSync(conn.path)) throw new NoSuchPortError(`${conn.path}: no such serial port`);
        if (!statSync(conn.path).isCharacterDevice()) throw new NoSuchPortError(`${conn.path}: not a serial port (not a character device)`);
        transport = SerialTransport.byPath(conn.path);
        break;
      case 'serial-id':
        transport = SerialTransport.bySerialNumber(conn.serial);
        break;
      case 'tcp':
        transport = conn.protocol === 'rfc2217' ? new Rfc2217Transport(conn.host, conn.port) : new TcpTransport(conn.host, conn.port);
        break;
      case 'qemu': {
        let imagePath: string | undefined;
        if (opts.image instanceof Uint8Array) {
          const dir = opts.scope ? opts.scope.tempDir('hil-qemu-') : makeTempDir('hil-qemu-');
          imagePath = join(dir, 'romfs.img');
          writeFileSync(imagePath, opts.image);
          cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
        } else imagePath = opts.image;
        const qemuProfile = profile!;
        let q = await QemuBoard.start({ profile: qemuProfile, firmware: opts.firmware, image: imagePath, scope: opts.scope });
        cleanups.push(() => q.stop());
        // The pty changes when QEMU restarts (qemu-loader flashing): look it up each time.
        transport = new SerialTransport(async () => q.ptyPath, `qemu ${qemuProfile.qemu?.machine ?? ''} pty`.trim());
        let loaded = { image: imagePath, addr: undefined as number | undefined };
        qemuRestart = async (newImage: string, addr: number) => {
          await q.stop();
          q = await QemuBoard.start({ profile: qemuProfile, firmware: opts.firmware, image: newImage, addr, scope: opts.scope });
          loaded = { image: newImage, addr };
        };
        // A crashed board is brought back as by a power cycle: QEMU started again with the image
        // file it was last loaded with (an image written into its RAM since is gone, as on a cam).
        powerCycle = async () => {
          await q.stop();
          q = await QemuBoard.start({ profile: qemuProfile, firmware: opts.firmware, image: loaded.image, addr: loaded.addr, scope: opts.scope });
        };
        readyTimeoutMs = Math.max(readyTimeoutMs, 20000);
        break;
      }
      case 'sim': {
        const { startSim } = await import('../sim/index.js');
        const simProfile = conn.profile ? loadProfile(conn.profile) : profile!;
        const image = typeof opts.image === 'string' ? new Uint8Array((await import('node:fs')).readFileSync(opts.image)) : opts.image;
        // The pty link is made by socat; without it the board is reached over TCP (nothing to install).
        const link = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0 ? 'pty' : 'tcp';
        const sim = await startSim({ profile: simProfile, link, image, firmwareApi: opts.simFirmwareApi, scope: opts.scope });
        profile ??= simProfile; // the board hil simulates is the profile asked for
        cleanups.push(() => sim.stop());
        powerCycle = () => sim.powerCycle();
        const tcp = link === 'tcp' ? parseConnection(sim.connection) : null;
        transport = tcp?.kind === 'tcp' ? new TcpTransport(tcp.host, tcp.port) : new SerialTransport(async () => sim.connection, `sim ${simProfile.name}`); // named as the user gave it, not by its temporary pty
        plainPauseMs = 0; // the simulated board buffers a whole program; no pacing needed
        retryWhenQuiet = link === 'tcp';
        break;
      }
    }
    powerCycle ??= opts.powerCycle;
    device = new ReplDevice({
      name,
      profile,
      connection: opts.connection,
      transport,
      repl: { retryWhenQuiet, ...(plainPauseMs === undefined ? {} : { plainPauseMs }) },
      defaultTimeoutMs: opts.timeoutMs,
      onClose: cleanup,
      qemuRestart,
      powerCycle,
      beforeOperation: opts.beforeOperation,
      freshBoard: conn.kind === 'qemu' || conn.kind === 'sim', // booted just now: no sealed wrapper yet
    });
    opts.onDevice?.(device);
    await device.connect(readyTimeoutMs);
    // One sealed query; before anything else is run or written.
    const identity = await readIdentity(device, { timeoutMs: opts.timeoutMs });
    const choice = choose(name, identity, profile, opts.profiles ?? loadAllProfiles);
    device.adoptProfile(choice.profile, identity, choice.detected);
    return device;
  } catch (e) {
    if (device) await device.close().catch(() => undefined);
    else await cleanup();
    throw e;
  }
}

/**
 * The profile for the board: a given one it fits needs no other, so the profiles (every YAML
 * file of devices/profiles, parsed: most of a connect's host CPU on a bench of 16 boards) are
 * read only without a profile or for the error naming the ones the board matches.
 */
function choose(name: string, identity: BoardIdentity, given: BoardProfile | undefined, candidates: BoardProfile[] | (() => BoardProfile[])): ProfileChoice {
  const all = () => (typeof candidates === 'function' ? candidates() : candidates);
  if (given) {
    try {
      return chooseProfile(name, identity, given, []);
    } catch (e) {
      if (!(e instanceof BoardIdentityError)) throw e;
    }
  }
  return chooseProfile(name, identity, given, all());
}
