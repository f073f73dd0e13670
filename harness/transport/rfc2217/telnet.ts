/**
 * The telnet layer under RFC 2217: a streaming decoder (data, option commands, subnegotiations)
 * and the escaping of data going out. Facts from RFC 854 (IAC commands, NVT CR rule), RFC 855
 * (subnegotiation: IAC SB option ... IAC SE, IAC doubled inside) and RFC 856 (BINARY).
 *
 * The decoder is total: any byte sequence in any split gives data and events, never an
 * exception, and holds at most MAX_SUBNEGOTIATION bytes of an unfinished subnegotiation.
 */

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const GA = 249;
export const NOP = 241;
export const SE = 240;
export const BRK = 243;

export const OPT_BINARY = 0;
export const OPT_ECHO = 1;
export const OPT_SGA = 3;
/** RFC 2217 section 1: COM-PORT-OPTION. */
export const OPT_COM_PORT = 44;

export type Verb = typeof WILL | typeof WONT | typeof DO | typeof DONT;

export type TelnetEvent =
  | { kind: 'negotiate'; verb: Verb; option: number }
  | { kind: 'subnegotiation'; option: number; data: Buffer }
  /** A subnegotiation longer than the bound, or cut by another command: discarded. */
  | { kind: 'malformed'; reason: string }
  /** Any other IAC command (NOP, GA, BRK, AYT, ...): no data, nothing to answer for a client. */
  | { kind: 'command'; code: number };

/**
 * Longest subnegotiation payload kept (the COM-PORT replies are 2-5 bytes; a signature is text).
 * Longer ones are discarded up to their IAC SE.
 */
export const MAX_SUBNEGOTIATION = 1024;

const enum S {
  Data,
  Iac,
  Verb,
  SbOption,
  SbData,
  SbIac,
  /** Inside an over-long subnegotiation: skip to IAC SE. */
  SbSkip,
  SbSkipIac,
  /** Non-binary receive only: a CR was seen; a NUL after it is dropped (RFC 854 NVT). */
  Cr,
}

export class TelnetDecoder {
  private state: S = S.Data;
  private verb: Verb = WILL;
  private sbOption = 0;
  private sb: number[] = [];
  /**
   * The peer sends in binary (it WILL BINARY, RFC 856). When false, "CR NUL" is read as CR
   * (RFC 854: CR not followed by LF must be followed by NUL).
   */
  binary = false;

  /** Bytes of an unfinished subnegotiation held (never more than MAX_SUBNEGOTIATION). */
  get pendingBytes(): number {
    return this.sb.length;
  }

  /** Decode one received chunk: the data bytes in it, and the telnet events in order. */
  push(chunk: Uint8Array): { data: Buffer; events: TelnetEvent[] } {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    // The common case, board output in binary mode without a 0xFF: the chunk is all data, no copy.
    if (this.state === S.Data && this.binary && buf.indexOf(IAC) < 0) return { data: buf, events: [] };
    const out = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    const events: TelnetEvent[] = [];
    for (let i = 0; i < chunk.length; i++) {
      // Binary data up to the next IAC, copied as one run rather than byte by byte.
      if (this.state === S.Data && this.binary) {
        const j = buf.indexOf(IAC, i);
        const end = j < 0 ? chunk.length : j;
        if (end > i) {
          buf.copy(out, n, i, end);
          n += end - i;
          i = end;
          if (i >= chunk.length) break;
        }
      }
      const b = chunk[i]!;
      switch (this.state) {
        case S.Cr:
        case S.Data:
          if (this.state === S.Cr) {
            this.state = S.Data;
            if (b === 0) break; // CR NUL is CR; any other byte is ordinary data (or IAC)
          }
          if (b === IAC) this.state = S.Iac;
          else {
            out[n++] = b;
            if (b === 13 && !this.binary) this.state = S.Cr;
          }
          break;
        case S.Iac:
          if (b === IAC) {
            out[n++] = IAC; // IAC IAC is one 0xFF data byte
            this.state = S.Data;
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.verb = b;
            this.state = S.Verb;
          } else if (b === SB) {
            this.state = S.SbOption;
          } else {
            // SE outside a subnegotiation included: a command without data.
            events.push({ kind: 'command', code: b });
            this.state = S.Data;
          }
          break;
        case S.Verb:
          events.push({ kind: 'negotiate', verb: this.verb, option: b });
          this.state = S.Data;
          break;
        case S.SbOption:
          if (b === IAC) {
            // IAC SB IAC ...: no option byte; treat the IAC as the start of a new command.
            events.push({ kind: 'malformed', reason: 'subnegotiation without an option' });
            this.state = S.Iac;
          } else {
            this.sbOption = b;
            this.sb = [];
            this.state = S.SbData;
          }
          break;
        case S.SbData:
          if (b === IAC) this.state = S.SbIac;
          else if (this.sb.length >= MAX_SUBNEGOTIATION) {
            events.push({ kind: 'malformed', reason: `subnegotiation of option ${this.sbOption} longer than ${MAX_SUBNEGOTIATION} bytes` });
            this.sb = [];
            this.state = S.SbSkip;
          } else this.sb.push(b);
          break;
        case S.SbIac:
          if (b === IAC) {
            if (this.sb.length >= MAX_SUBNEGOTIATION) {
              events.push({ kind: 'malformed', reason: `subnegotiation of option ${this.sbOption} longer than ${MAX_SUBNEGOTIATION} bytes` });
              this.sb = [];
              this.state = S.SbSkip;
            } else {
              this.sb.push(IAC);
              this.state = S.SbData;
            }
          } else if (b === SE) {
            events.push({ kind: 'subnegotiation', option: this.sbOption, data: Buffer.from(this.sb) });
            this.sb = [];
            this.state = S.Data;
          } else {
            // A command inside a subnegotiation (its SE was lost): drop the subnegotiation and
            // read the command, so a missing SE cannot swallow the stream.
            events.push({ kind: 'malformed', reason: `subnegotiation of option ${this.sbOption} cut by IAC ${b}` });
            this.sb = [];
            this.state = S.Iac;
            i--; // re-read b as the byte after IAC
          }
          break;
        case S.SbSkip:
          if (b === IAC) this.state = S.SbSkipIac;
          break;
        case S.SbSkipIac:
          if (b === SE) this.state = S.Data;
          else if (b === IAC) this.state = S.SbSkip;
          else {
            this.state = S.Iac;
            i--;
          }
          break;
      }
    }
    return { data: out.subarray(0, n), events };
  }
}

/**
 * Data as it goes on the wire: every 0xFF doubled (RFC 854), and when we do not send in binary
 * (RFC 856 not in effect for our side) every CR followed by NUL (RFC 854 NVT).
 */
export function escapeData(data: Uint8Array, binary: boolean): Buffer {
  const buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length);
  // Nothing to escape (binary, no 0xFF: every exec and most frames): the bytes as they are, no copy.
  if (binary && buf.indexOf(IAC) < 0) return buf;
  let extra = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === IAC || (!binary && b === 13)) extra++;
  }
  if (extra === 0) return Buffer.from(data);
  const out = Buffer.allocUnsafe(data.length + extra);
  let n = 0;
  for (const b of data) {
    out[n++] = b;
    if (b === IAC) out[n++] = IAC;
    else if (!binary && b === 13) out[n++] = 0;
  }
  return out;
}

export function negotiation(verb: Verb, option: number): Buffer {
  return Buffer.from([IAC, verb, option]);
}

/** IAC SB option <payload, IAC doubled> IAC SE. */
export function subnegotiation(option: number, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([IAC, SB, option]), escapeData(payload, true), Buffer.from([IAC, SE])]);
}
