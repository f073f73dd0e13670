/**
 * Bench files: the devices a team has, by name.
 *
 * ```yaml
 * default: cam1                  # optional: the board `hil run` uses without --device/--bench
 * devices:
 *   cam1: { profile: openmv-h7, connection: /dev/serial/by-id/usb-OpenMV_...-if00 }
 *   qemu: { profile: qemu-mps2-an385, connection: qemu }
 *   sim1: { profile: openmv-h7, connection: sim }
 * ```
 * Profiles are names from devices/profiles or paths (relative to the bench file).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import yaml from 'js-yaml';
import { ConfigError } from '../errors.js';
import { loadProfile, type BoardProfile } from '../profile/profile.js';

export interface BenchTarget {
  name: string;
  connection: string;
  /** The board's profile; absent for a bare connection string: chosen from the board's identity on connect. */
  profile?: BoardProfile;
  /** hil's simulated board (connection `sim` or `sim:PROFILE`). */
  simulated: boolean;
  /** Extra fields from the bench file, passed to the device layer as given. */
  extra: Record<string, unknown>;
}

export interface BenchFile {
  file: string;
  default?: string;
  targets: BenchTarget[];
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
  for (const [name, v] of Object.entries(devs as Record<string, unknown>)) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(`${file}: field 'devices.${name}' must be a mapping with profile and connection`);
    const d = v as Record<string, unknown>;
    if (typeof d.connection !== 'string' || !d.connection) throw new ConfigError(`${file}: field 'devices.${name}.connection' must be a non-empty string`);
    if (typeof d.profile !== 'string' || !d.profile) throw new ConfigError(`${file}: field 'devices.${name}.profile' must be a profile name or path`);
    const profArg = d.profile.includes('/') && !isAbsolute(d.profile) ? resolve(dirname(file), d.profile) : d.profile;
    let profile: BoardProfile;
    try {
      profile = loadProfile(profArg);
    } catch (e) {
      throw new ConfigError(`${file}: field 'devices.${name}.profile': ${(e as Error).message}`);
    }
    const { connection, profile: _p, ...extra } = d;
    targets.push({ name, connection: connection as string, profile, simulated: isSimConnection(connection as string), extra });
  }
  if (targets.length === 0) throw new ConfigError(`${file}: field 'devices' lists no device`);
  let dflt: string | undefined;
  if (o.default !== undefined) {
    if (typeof o.default !== 'string' || !targets.some((t) => t.name === o.default)) {
      throw new ConfigError(`${file}: field 'default' must name a device listed under 'devices' (got ${JSON.stringify(o.default)})`);
    }
    dflt = o.default;
  }
  return { file, default: dflt, targets };
}
