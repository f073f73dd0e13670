/**
 * Bench files: the devices a team has, by name.
 *
 * ```yaml
 * default: cam1                  # optional: the board `hil run` uses without --device/--bench
 * devices:
 *   cam1: { profile: openmv-h7, connection: /dev/serial/by-id/usb-OpenMV_...-if00 }
 *   qemu: { profile: qemu-mps2-an385, connection: qemu }
 *   sim1: { profile: openmv-h7, connection: sim }
 *   cam2:                        # optional power: the USB hub port the board hangs off (uhubctl)
 *     profile: openmv-h7
 *     connection: id:3A0F...
 *     power: { uhubctl: { location: "1-1", port: 2 } }   # optional delay: seconds off (default 2)
 * ```
 * Profiles are names from devices/profiles or paths (relative to the bench file).
 * `leases: postgres://USER:PASS@HOST/DB` shares the bench's leases with hil on other hosts
 * (harness/bench/leases/); without it leases are lock files on this host.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import yaml from 'js-yaml';
import { ConfigError } from '../errors.js';
import { profileLoader, type BoardProfile } from '../profile/profile.js';
import type { PowerSpec } from '../power/uhubctl.js';

export interface BenchTarget {
  name: string;
  connection: string;
  /** The board's profile; absent for a bare connection string: chosen from the board's identity on connect. */
  profile?: BoardProfile;
  /** hil's simulated board (connection `sim` or `sim:PROFILE`). */
  simulated: boolean;
  /** Extra fields from the bench file, passed to the device layer as given. */
  extra: Record<string, unknown>;
  /** How hil can power-cycle the board (the recovery ladder's last step); absent: it cannot. */
  power?: PowerSpec;
}

/** The `power:` field's type lives with the power switch (harness/power/uhubctl.ts), below the bench layer. */
export type { PowerSpec };

const POWER_KEYS = ['uhubctl'];
const UHUBCTL_KEYS = ['location', 'port', 'delay'];
/** uhubctl.c: MAX_HUB_PORTS. */
const MAX_HUB_PORTS = 14;

/** The `power:` field of a bench device, checked; every problem is one line naming file and field. */
export function parsePowerSpec(file: string, at: string, v: unknown): PowerSpec {
  const field = (k: string) => `${file}: field '${at}.${k}'`;
  const mapping = (x: unknown) => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (!mapping(v)) throw new ConfigError(`${file}: field '${at}' must be a mapping such as { uhubctl: { location: "1-1", port: 2 } }`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!POWER_KEYS.includes(k)) throw new ConfigError(`${field(k)} is not a known field (known: ${POWER_KEYS.join(', ')})`);
  if (o.uhubctl === undefined) throw new ConfigError(`${file}: field '${at}' names no power switch (known: ${POWER_KEYS.join(', ')})`);
  if (!mapping(o.uhubctl)) throw new ConfigError(`${field('uhubctl')} must be a mapping with location and port`);
  const u = o.uhubctl as Record<string, unknown>;
  for (const k of Object.keys(u)) if (!UHUBCTL_KEYS.includes(k)) throw new ConfigError(`${field(`uhubctl.${k}`)} is not a known field (known: ${UHUBCTL_KEYS.join(', ')})`);
  if (typeof u.location !== 'string' || !/^\d+(-\d+(\.\d+)*)?$/.test(u.location)) {
    throw new ConfigError(`${field('uhubctl.location')} must be a hub location as uhubctl prints it, e.g. "1-1" or "2-1.4" (got ${JSON.stringify(u.location)})`);
  }
  if (typeof u.port !== 'number' || !Number.isInteger(u.port) || u.port < 1 || u.port > MAX_HUB_PORTS) {
    throw new ConfigError(`${field('uhubctl.port')} must be a hub port number from 1 to ${MAX_HUB_PORTS} (got ${JSON.stringify(u.port)})`);
  }
  if (u.delay !== undefined && (typeof u.delay !== 'number' || !Number.isFinite(u.delay) || u.delay <= 0 || u.delay > 60)) {
    throw new ConfigError(`${field('uhubctl.delay')} must be a number of seconds above 0 and at most 60 (got ${JSON.stringify(u.delay)})`);
  }
  return { uhubctl: { location: u.location, port: u.port, ...(u.delay !== undefined ? { delay: u.delay as number } : {}) } };
}

export interface BenchFile {
  file: string;
  default?: string;
  targets: BenchTarget[];
  /** Where the bench's leases live (`postgres://...`, `file`), when the file says. */
  leases?: string;
}

export const DEFAULT_BENCH_FILE = 'devices/bench.yaml';

export function isSimConnection(connection: string): boolean {
  return connection === 'sim' || connection.startsWith('sim:');
}

export function readBenchFile(file: string): BenchFile {
  if (!existsSync(file)) throw new ConfigError(`${file}: bench file not found`);
  let raw: unknown;
  try {
    raw = yaml.load(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${file}: a bench file must be a mapping with 'devices'`);
  const o = raw as Record<string, unknown>;
  const devs = o.devices;
  if (!devs || typeof devs !== 'object' || Array.isArray(devs)) throw new ConfigError(`${file}: field 'devices' must map device names to {profile, connection}`);
  const targets: BenchTarget[] = [];
  const load = profileLoader();
  for (const [name, v] of Object.entries(devs as Record<string, unknown>)) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${file}: field 'devices.${name}' must be a mapping with profile and connection`);
    const d = v as Record<string, unknown>;
    if (typeof d.connection !== 'string' || !d.connection) throw new ConfigError(`${file}: field 'devices.${name}.connection' must be a non-empty string`);
    if (typeof d.profile !== 'string' || !d.profile) throw new ConfigError(`${file}: field 'devices.${name}.profile' must be a profile name or path`);
    const profArg = d.profile.includes('/') && !isAbsolute(d.profile) ? resolve(dirname(file), d.profile) : d.profile;
    let profile: BoardProfile;
    try {
      profile = load(profArg);
    } catch (e) {
      throw new ConfigError(`${file}: field 'devices.${name}.profile': ${(e as Error).message}`);
    }
    const { connection, profile: _p, power: powerField, ...extra } = d;
    const power = powerField === undefined ? undefined : parsePowerSpec(file, `devices.${name}.power`, powerField);
    targets.push({ name, connection: connection as string, profile, simulated: isSimConnection(connection as string), extra, ...(power ? { power } : {}) });
  }
  if (targets.length === 0) throw new ConfigError(`${file}: field 'devices' lists no device`);
  let dflt: string | undefined;
  if (o.default !== undefined) {
    if (typeof o.default !== 'string' || !targets.some((t) => t.name === o.default)) {
      throw new ConfigError(`${file}: field 'default' must name a device listed under 'devices' (got ${JSON.stringify(o.default)})`);
    }
    dflt = o.default;
  }
  if (o.leases !== undefined && (typeof o.leases !== 'string' || !/^(postgres(ql)?:\/\/|file(:|$))/.test(o.leases))) {
    throw new ConfigError(`${file}: field 'leases' must be a postgres://USER:PASS@HOST/DB URL or 'file'`);
  }
  return { file, default: dflt, targets, ...(o.leases !== undefined ? { leases: o.leases as string } : {}) };
}
