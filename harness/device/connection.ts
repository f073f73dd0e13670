/** Connection strings in the spirit of mpremote's. */
import { UsageError } from '../errors.js';

export type Connection =
  | { kind: 'serial'; path: string }
  | { kind: 'serial-id'; serial: string }
  /** A TCP port: raw bytes (`socket://`), or telnet with COM-PORT-OPTION (`rfc2217://`, RFC 2217). */
  | { kind: 'tcp'; host: string; port: number; protocol: 'raw' | 'rfc2217' }
  | { kind: 'qemu' }
  | { kind: 'sim'; profile?: string };

/**
 * `/dev/ttyACM0` (any path; a pty counts), `id:SERIAL` (USB serial number), `socket://host:port`,
 * `rfc2217://host:port` (a remote serial port, e.g. ser2net's telnet(rfc2217) accepter), `qemu` (hil starts qemu-system-arm for the profile), `sim` or `sim:PROFILE` (a simulated board).
 */
export function parseConnection(s: string): Connection {
  if (s === 'qemu') return { kind: 'qemu' };
  if (s === 'sim') return { kind: 'sim' };
  if (s.startsWith('sim:')) return { kind: 'sim', profile: s.slice(4) };
  if (s.startsWith('id:')) {
    if (s.length <= 3) throw new UsageError(`connection '${s}': id: needs a USB serial number`);
    return { kind: 'serial-id', serial: s.slice(3) };
  }
  if (s.startsWith('socket://') || s.startsWith('tcp:')) {
    const m = /^(?:socket:\/\/|tcp:)\[?([^\]]+?)\]?:(\d+)$/.exec(s);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) throw new UsageError(`connection '${s}': expected socket://HOST:PORT`);
    return { kind: 'tcp', host: m[1]!, port, protocol: 'raw' };
  }
  if (s.startsWith('rfc2217://')) {
    const m = /^rfc2217:\/\/(?:\[([^\]]+)\]|([^:/[\]]+)):(\d+)$/.exec(s);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port < 1 || port > 65535) throw new UsageError(`connection '${s}': expected rfc2217://HOST:PORT`);
    return { kind: 'tcp', host: (m[1] ?? m[2])!, port, protocol: 'rfc2217' };
  }
  if (s.startsWith('/') || s.startsWith('./') || /^COM\d+$/i.test(s)) return { kind: 'serial', path: s };
  throw new UsageError(`connection '${s}': not a serial path, id:SERIAL, socket://HOST:PORT, rfc2217://HOST:PORT, qemu or sim`);
}
