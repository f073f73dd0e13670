/**
 * COM-PORT-OPTION (RFC 2217) suboptions: what a client sends (codes 0-12) and what the access
 * server answers (the same code + 100). Values are from RFC 2217's command tables.
 */

export const CPO = {
  SIGNATURE: 0,
  SET_BAUDRATE: 1,
  SET_DATASIZE: 2,
  SET_PARITY: 3,
  SET_STOPSIZE: 4,
  SET_CONTROL: 5,
  NOTIFY_LINESTATE: 6,
  NOTIFY_MODEMSTATE: 7,
  FLOWCONTROL_SUSPEND: 8,
  FLOWCONTROL_RESUME: 9,
  SET_LINESTATE_MASK: 10,
  SET_MODEMSTATE_MASK: 11,
  PURGE_DATA: 12,
} as const;

/** Server-to-client codes are the client's plus 100 (RFC 2217, "Com Port Option" table). */
export const SERVER_OFFSET = 100;

/** SET-CONTROL values (RFC 2217). */
export const CONTROL = {
  FLOW_NONE: 1,
  BREAK_ON: 5,
  BREAK_OFF: 6,
  DTR_ON: 8,
  DTR_OFF: 9,
  RTS_ON: 11,
  RTS_OFF: 12,
} as const;

/** PURGE-DATA values: 1 the server's receive buffer, 2 its transmit buffer, 3 both. */
export const PURGE = { RX: 1, TX: 2, BOTH: 3 } as const;

/** A client request: suboption code and payload (the COM-PORT-OPTION byte is added by the telnet layer). */
export interface ComPortRequest {
  code: number;
  value: Buffer;
}

export function setBaudRate(baud: number): ComPortRequest {
  if (!Number.isInteger(baud) || baud < 0 || baud > 0xffffffff) throw new RangeError(`baud rate ${baud} is not a 32-bit unsigned integer`);
  const v = Buffer.alloc(4);
  v.writeUInt32BE(baud); // network byte order (RFC 2217: "sent in network standard format")
  return { code: CPO.SET_BAUDRATE, value: v };
}

/** 8 data bits, no parity (1), one stop bit (1): what every OpenMV/MicroPython USB-serial link uses. */
export function set8N1(): ComPortRequest[] {
  return [
    { code: CPO.SET_DATASIZE, value: Buffer.from([8]) },
    { code: CPO.SET_PARITY, value: Buffer.from([1]) },
    { code: CPO.SET_STOPSIZE, value: Buffer.from([1]) },
  ];
}

export function setControl(value: number): ComPortRequest {
  return { code: CPO.SET_CONTROL, value: Buffer.from([value]) };
}

export function purge(which: number): ComPortRequest {
  return { code: CPO.PURGE_DATA, value: Buffer.from([which]) };
}

export function comPortPayload(r: ComPortRequest): Buffer {
  return Buffer.concat([Buffer.from([r.code]), r.value]);
}

export type ServerReply =
  | { kind: 'signature'; text: string }
  | { kind: 'baudrate'; baud: number }
  | { kind: 'datasize' | 'parity' | 'stopsize' | 'control' | 'purge' | 'linestate-mask' | 'modemstate-mask'; value: number }
  | { kind: 'linestate' | 'modemstate'; value: number }
  | { kind: 'flow-suspend' | 'flow-resume' }
  /** A client-side code (0-12) sent to us: a server asking for our signature, or nonsense. */
  | { kind: 'client-code'; code: number }
  | { kind: 'malformed'; reason: string };

const ONE_BYTE: Record<number, Exclude<ServerReply, { kind: 'signature' | 'baudrate' | 'flow-suspend' | 'flow-resume' | 'client-code' | 'malformed' }>['kind']> = {
  [CPO.SET_DATASIZE]: 'datasize',
  [CPO.SET_PARITY]: 'parity',
  [CPO.SET_STOPSIZE]: 'stopsize',
  [CPO.SET_CONTROL]: 'control',
  [CPO.NOTIFY_LINESTATE]: 'linestate',
  [CPO.NOTIFY_MODEMSTATE]: 'modemstate',
  [CPO.SET_LINESTATE_MASK]: 'linestate-mask',
  [CPO.SET_MODEMSTATE_MASK]: 'modemstate-mask',
  [CPO.PURGE_DATA]: 'purge',
};

/** Parse a COM-PORT-OPTION subnegotiation payload (after the option byte) received from the server. */
export function parseServerReply(p: Uint8Array): ServerReply {
  if (p.length === 0) return { kind: 'malformed', reason: 'empty COM-PORT-OPTION subnegotiation' };
  const code = p[0]!;
  if (code < SERVER_OFFSET) return { kind: 'client-code', code };
  const c = code - SERVER_OFFSET;
  const v = p.subarray(1);
  if (c === CPO.SIGNATURE) return { kind: 'signature', text: Buffer.from(v).toString('latin1').slice(0, 200) };
  if (c === CPO.SET_BAUDRATE) {
    if (v.length !== 4) return { kind: 'malformed', reason: `SET-BAUDRATE reply of ${v.length} bytes (want 4)` };
    return { kind: 'baudrate', baud: Buffer.from(v).readUInt32BE(0) };
  }
  if (c === CPO.FLOWCONTROL_SUSPEND) return { kind: 'flow-suspend' };
  if (c === CPO.FLOWCONTROL_RESUME) return { kind: 'flow-resume' };
  const kind = ONE_BYTE[c];
  if (!kind) return { kind: 'malformed', reason: `unknown COM-PORT-OPTION reply code ${code}` };
  if (v.length !== 1) return { kind: 'malformed', reason: `${kind} reply of ${v.length} bytes (want 1)` };
  return { kind, value: v[0]! };
}
