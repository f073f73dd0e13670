/**
 * Checks every command makes on its arguments before it opens a device: a bad output path, an
 * empty device name, a negative timeout, a bench file with a misspelt key, a USB serial number no
 * port has. Each failure is a UsageError (exit 2) with one line naming the path, flag, field or
 * device and why, and nothing has been sent to a board or written yet.
 */
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import yaml from 'js-yaml';
import { ConfigError, UsageError } from '../errors.js';
import { parseConnection } from '../device/connection.js';
import { listSerialPorts } from '../transport/serialTransport.js';

/**
 * An output path (`--junit FILE`, `--out DIR`, ...): it may not exist yet (missing parent folders
 * are created when it is written), but it must be creatable and writable by this user. `kind`
 * says whether a file or a folder will be written there.
 */
export function checkOutputPath(flag: string, path: string | undefined, kind: 'file' | 'folder' = 'file'): void {
  if (path === undefined) return;
  if (path === '') throw new UsageError(`${flag}: empty path`);
  const full = resolve(path);
  if (existsSync(full)) {
    const st = statSync(full);
    if (kind === 'file' && st.isDirectory()) throw new UsageError(`${flag} ${path}: is a folder, not a file`);
    if (kind === 'folder' && !st.isDirectory()) throw new UsageError(`${flag} ${path}: exists and is not a folder`);
    if (!writable(full)) throw new UsageError(`${flag} ${path}: not writable by this user`);
    return;
  }
  // The nearest part of the path that exists must be a folder this user may create entries in.
  let dir = dirname(full);
  while (!existsSync(dir)) {
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  if (!statSync(dir).isDirectory()) throw new UsageError(`${flag} ${path}: parent ${dir} is not a folder`);
  if (!writable(dir)) throw new UsageError(`${flag} ${path}: folder ${dir} is not writable by this user`);
}

function writable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * A flag given with an empty value (`--device "$UNSET"`) is refused: falling back to a default
 * board would turn a CI job whose variable is unset into a pass on a throwaway simulated board.
 */
export function checkNotEmpty(flag: string, value: string | undefined): void {
  if (value !== undefined && value.trim() === '') throw new UsageError(`${flag} is empty (an unset variable?): name a device or leave the flag out`);
}

/** A deadline in seconds: a finite number above 0. */
export function checkSeconds(flag: string, value: number | undefined, opts: { zero?: boolean } = {}): void {
  if (value === undefined) return;
  const ok = Number.isFinite(value) && (opts.zero ? value >= 0 : value > 0);
  if (!ok) throw new UsageError(`${flag} must be a number of seconds ${opts.zero ? '>= 0' : 'above 0'} (got ${value})`);
}

/** An input file given by a flag must exist and be a file. */
export function checkInputFile(flag: string, path: string | undefined, what: string): void {
  if (path === undefined) return;
  if (!existsSync(path)) throw new UsageError(`${flag} ${path}: no such ${what}`);
  if (!statSync(path).isFile()) throw new UsageError(`${flag} ${path}: not a file`);
}

/** The fields of a bench file, and of each device in it (the device layer's open options). */
const BENCH_KEYS = ['default', 'devices', 'leases'];
const DEVICE_KEYS = ['profile', 'connection', 'firmware', 'image', 'simFirmwareApi', 'readyTimeoutMs', 'timeoutMs', 'power'];

/**
 * A misspelt key in a bench file (`conection:`, `devics:`) would otherwise be passed on silently
 * and the device run with defaults: refused, naming the file and field. Syntax and the other
 * fields are checked where the file is read (harness/bench/inventory.ts).
 */
export function checkBenchKeys(file: string): void {
  if (!existsSync(file)) return;
  let raw: unknown;
  try {
    raw = yaml.load(readFileSync(file, 'utf8'));
  } catch {
    return; // reported with line and column by the bench reader
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return;
  const unknown = (o: object, known: string[], at: string) => {
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) throw new ConfigError(`${file}: field '${at}${k}' is not a known field (known: ${known.join(', ')})`);
    }
  };
  unknown(raw, BENCH_KEYS, '');
  const devs = (raw as Record<string, unknown>).devices;
  if (!devs || typeof devs !== 'object' || Array.isArray(devs)) return;
  for (const [name, d] of Object.entries(devs as Record<string, unknown>)) {
    if (d && typeof d === 'object' && !Array.isArray(d)) unknown(d, DEVICE_KEYS, `devices.${name}.`);
  }
}

/**
 * `id:SERIAL` must name a USB serial number a port here has: otherwise fail at once, naming the
 * ports that were seen (instead of waiting out the connect deadline for a board that is not there).
 */
export async function checkSerialIds(connections: string[], list = listSerialPorts): Promise<void> {
  for (const c of connections) {
    let conn;
    try {
      conn = parseConnection(c);
    } catch {
      continue; // a bad connection string is reported, with its reason, where it is opened
    }
    if (conn.kind !== 'serial-id') continue;
    const ports = await list().catch(() => null);
    if (ports === null) continue; // cannot enumerate here: the transport's own wait applies
    if (ports.some((p) => p.serialNumber === conn.serial)) continue;
    const seen = ports.filter((p) => p.serialNumber || p.vendorId).map((p) => `${p.path}${p.serialNumber ? ` (id:${p.serialNumber})` : ''}`);
    throw new UsageError(`${c}: no serial port has USB serial number ${conn.serial} (ports seen: ${seen.length ? seen.join(', ') : 'none'})`);
  }
}
