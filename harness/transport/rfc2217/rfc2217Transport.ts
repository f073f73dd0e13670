/**
 * `rfc2217://host:port`: a serial port exported over telnet with COM-PORT-OPTION (RFC 2217),
 * e.g. by ser2net (`accepter: telnet(rfc2217),tcp,PORT`). On open: telnet negotiation (BINARY
 * both ways, SGA, we WILL COM-PORT-OPTION; RFC 2217 section 2 has the client send it), then the
 * line settings (baud rate, 8N1) with the server's acknowledgement awaited, then PURGE-DATA of
 * both server buffers and of what we had received (so a banner or stale output is not read as
 * the board's answer; pyserial's RFC 2217 client flushes input on connect too).
 *
 * Client behaviour follows pyserial's notes on real servers (serial/rfc2217.py): SET-CONTROL
 * (DTR/RTS/BREAK) answers are not required (some servers answer wrongly, and ser2net on a pty
 * cannot set modem lines and does not answer); baud rate and purge answers are awaited with a
 * deadline. Data is de-escaped on the way in and escaped on the way out (telnet.ts), and the
 * transcript (onTraffic) sees the serial data only, as with the other transports.
 */
import type { Socket } from 'node:net';
import { connectSocket, destroySocket, writeSocket } from '../tcpTransport.js';
import { RxBuffer } from '../rxBuffer.js';
import { LinkClosedError, LinkOpenError, LinkTimeoutError } from '../errors.js';
import { BUSY_RETRY_MS } from '../serialTransport.js';
import type { Transport } from '../transport.js';
import { OPT_BINARY, OPT_COM_PORT, OPT_SGA, TelnetDecoder, escapeData, negotiation, subnegotiation, type TelnetEvent } from './telnet.js';
import { OptionTable } from './options.js';
import { CONTROL, CPO, PURGE, comPortPayload, parseServerReply, purge, set8N1, setBaudRate, setControl, type ComPortRequest, type ServerReply } from './comPort.js';

export interface Rfc2217Options {
  /** Baud rate asked of the server's serial port (default 115200). */
  baudRate?: number;
  /** Deadline for one answer from the server during open (negotiation, baud rate, purge), ms (default 3000). */
  answerMs?: number;
  /** How long a write may wait while the server has suspended our output (FLOWCONTROL-SUSPEND), ms (default 10000). */
  suspendMs?: number;
}

/** The control side of an RFC 2217 port, beyond bytes in and out. */
export interface SerialLineControl {
  setSignals(s: { dtr?: boolean; rts?: boolean }): Promise<void>;
  sendBreak(ms: number): Promise<void>;
  purge(): Promise<void>;
}

/** The remote port is held by another client (ser2net answers "Port already in use" and closes). */
export class RemotePortBusyError extends LinkOpenError {
  constructor(readonly port: string, said: string) {
    super(`${port}: the remote serial port is in use by another client (the server said ${JSON.stringify(said)})`, 'connect');
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Rfc2217Transport implements Transport, SerialLineControl {
  readonly rx: RxBuffer;
  readonly description: string;
  onTraffic?: (dir: 'tx' | 'rx', data: Uint8Array) => void;
  /** The server's signature text, when it sent one (ser2net: "ser2net"). */
  signature?: string;
  /** Last NOTIFY-MODEMSTATE value (CD, RI, DSR, CTS and their deltas), when the server sent one. */
  modemState?: number;
  /** Protocol oddities seen (malformed subnegotiations, refused options): for the transcript and tests. */
  readonly notes: string[] = [];
  private sock: Socket | null = null;
  private decoder = new TelnetDecoder();
  private options = newOptionTable();
  private waiters = new Map<number, ((r: ServerReply) => void)[]>();
  private changed: (() => void)[] = [];
  private suspended = false;
  /** Telnet commands received on this connection (none at all: not a telnet server). */
  private telnetEvents = 0;
  private readonly baudRate: number;
  private readonly answerMs: number;
  private readonly suspendMs: number;

  constructor(readonly host: string, readonly port: number, opts: Rfc2217Options = {}) {
    this.description = `rfc2217://${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.rx = new RxBuffer(this.description);
    this.baudRate = opts.baudRate ?? 115200;
    this.answerMs = opts.answerMs ?? 3000;
    this.suspendMs = opts.suspendMs ?? 10000;
  }

  get isOpen(): boolean {
    return this.sock !== null && !this.sock.destroyed;
  }

  /** What the options stand at (for tests and `hil devices`). */
  optionState(which: 'us' | 'him', option: number) {
    return this.options.state(which, option);
  }

  async open(deadlineMs: number): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    let last = '';
    let busySince: number | null = null;
    for (;;) {
      try {
        await this.connectOnce(Math.max(100, deadline - Date.now()));
        await this.handshake(deadline);
        return;
      } catch (e) {
        // What the server said before it closed (ser2net: "Port already in use").
        const said = this.rx.drain().toString('latin1').replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 120);
        await this.dropSocket();
        if (e instanceof LinkOpenError) throw e;
        last = (e as Error).message + (said ? ` (the server said: ${JSON.stringify(said)})` : '');
        if ((e as NodeJS.ErrnoException).code === 'ECONNREFUSED') throw new LinkOpenError(`${this.description}: connection refused (nothing listens there)`, 'connect');
        if (/in use/i.test(said)) {
          // Another client holds the remote port: retried briefly (a hil that is just letting go).
          busySince ??= Date.now();
          if (Date.now() - busySince >= BUSY_RETRY_MS || Date.now() >= deadline) throw new RemotePortBusyError(this.description, said);
        } else busySince = null;
      }
      // A server whose serial device is not there (a board re-enumerating) closes the
      // connection at once: try again until the deadline, like a serial port that is coming back.
      if (Date.now() >= deadline) throw new LinkTimeoutError(`${this.description}: cannot open the remote port: ${last}`, 'connect');
      await sleep(100);
    }
  }

  private async connectOnce(ms: number): Promise<void> {
    const s = await connectSocket(this.host, this.port, ms);
    s.setKeepAlive(true, 5000);
    this.sock = s;
    this.decoder = new TelnetDecoder();
    this.options = newOptionTable();
    this.waiters.clear();
    this.suspended = false;
    this.telnetEvents = 0;
    this.rx.reopen();
    s.on('data', (d: Buffer) => this.onData(d));
    s.on('close', () => {
      this.rx.markClosed('connection closed');
      this.wakeAll();
    });
    s.on('error', (e) => {
      this.rx.markClosed(e.message);
      this.wakeAll();
    });
  }

  private async handshake(deadline: number): Promise<void> {
    const answerBy = () => Math.min(deadline, Date.now() + this.answerMs);
    const out: Buffer[] = [];
    const ask = (which: 'us' | 'him', option: number) => {
      const v = this.options.request(which, option, true);
      if (v !== null) out.push(negotiation(v, option));
    };
    ask('us', OPT_COM_PORT);
    ask('us', OPT_BINARY);
    ask('him', OPT_BINARY);
    ask('us', OPT_SGA);
    ask('him', OPT_SGA);
    this.rawWrite(Buffer.concat(out));
    try {
      await this.waitFor(() => this.options.settled, answerBy(), 'telnet negotiation', () =>
        `${this.description}: no telnet negotiation answer (is it a raw TCP port? use socket://HOST:PORT for ser2net's raw mode)`,
      );
    } catch (e) {
      // Bytes came, but not one telnet command: a raw port (ser2net's tcp accepter, a sim, QEMU).
      // Trying again would not change that.
      if (e instanceof LinkTimeoutError && this.telnetEvents === 0 && this.rx.length > 0) {
        throw new LinkOpenError(`${this.description}: the server sends data but no telnet negotiation: a raw TCP port, not RFC 2217 (use socket://${this.host}:${this.port})`, 'connect');
      }
      throw e;
    }
    if (this.options.state('us', OPT_COM_PORT) !== 'yes') {
      throw new LinkOpenError(`${this.description}: the server refused COM-PORT-OPTION: not an RFC 2217 port (ser2net: accepter telnet(rfc2217),tcp,PORT)`, 'connect');
    }
    // Line settings, each answered by the server with the value now in force. Sent together and
    // then awaited (as pyserial's client does: serial/rfc2217.py _reconfigure_port), so an open
    // costs one round trip for them, not four; each answer is matched to its request's code.
    const by = answerBy();
    const lineRequests = [setBaudRate(this.baudRate), ...set8N1()];
    const answers = await Promise.all(lineRequests.map((r) => this.requestAnswered(r, by)));
    const baud = answers[0]!;
    if (baud.kind !== 'baudrate' || baud.baud !== this.baudRate) {
      throw new LinkOpenError(`${this.description}: the server did not accept ${this.baudRate} baud (answered ${baud.kind === 'baudrate' ? baud.baud : baud.kind})`, 'connect');
    }
    lineRequests.slice(1).forEach((r, i) => {
      const a = answers[i + 1]!;
      if (!('value' in a) || a.value !== r.value[0]) throw new LinkOpenError(`${this.description}: the server did not accept 8N1 (code ${r.code}: answered ${JSON.stringify(a)})`, 'connect');
    });
    await this.purgeAnswered(answerBy());
    // Ask for the signature (RFC 2217: an empty SIGNATURE is a request); not awaited.
    this.sendComPort({ code: CPO.SIGNATURE, value: Buffer.alloc(0) });
  }

  /** The server's signature, waiting up to `ms` for it (asked for on open; undefined if none came). */
  async awaitSignature(ms: number): Promise<string | undefined> {
    if (this.signature === undefined && this.isOpen) {
      await this.waitFor(() => this.signature !== undefined, Date.now() + ms, 'signature', () => 'no signature').catch(() => undefined);
    }
    return this.signature;
  }

  private async purgeAnswered(by: number): Promise<void> {
    const a = await this.requestAnswered(purge(PURGE.BOTH), by);
    if (a.kind !== 'purge') throw new LinkOpenError(`${this.description}: PURGE-DATA not acknowledged`, 'connect');
    // What arrived before the server's purge answer was in its buffers or on the way: stale.
    this.rx.drain();
  }

  /** Send a request and wait for the server's answer to that code (deadline `by`). */
  private requestAnswered(r: ComPortRequest, by: number): Promise<ServerReply> {
    const code = r.code;
    let got: ServerReply | undefined;
    const list = this.waiters.get(code) ?? [];
    list.push((rep) => (got = rep));
    this.waiters.set(code, list);
    this.sendComPort(r);
    return this.waitFor(() => got !== undefined, by, `RFC 2217 answer to suboption ${code}`, () => `${this.description}: no answer to COM-PORT-OPTION suboption ${code} within ${this.answerMs} ms`).then(() => got!);
  }

  /** Wait until `cond()` holds, the link closes (LinkClosedError) or the deadline (LinkTimeoutError). */
  private waitFor(cond: () => boolean, by: number, phase: string, timeoutMessage: () => string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (cond()) return finish(() => resolve());
        if (this.rx.closed || !this.isOpen) return finish(() => reject(new LinkClosedError(`${this.description}: connection closed during ${phase}`, 'connect')));
        return false;
      };
      const finish = (f: () => void) => {
        clearTimeout(t);
        this.changed = this.changed.filter((c) => c !== onChange);
        f();
        return true;
      };
      const onChange = () => void check();
      const t = setTimeout(() => finish(() => reject(new LinkTimeoutError(timeoutMessage(), 'connect'))), Math.max(0, by - Date.now()));
      this.changed.push(onChange);
      check();
    });
  }

  private wakeAll(): void {
    for (const c of [...this.changed]) c();
  }

  private onData(chunk: Buffer): void {
    const { data, events } = this.decoder.push(chunk);
    this.telnetEvents += events.length;
    for (const ev of events) this.onEvent(ev);
    if (data.length) {
      this.onTraffic?.('rx', data);
      this.rx.push(data);
    }
    if (events.length) this.wakeAll();
  }

  private onEvent(ev: TelnetEvent): void {
    switch (ev.kind) {
      case 'negotiate': {
        const answer = this.options.received(ev.verb, ev.option);
        if (answer !== null) this.rawWrite(negotiation(answer, ev.option));
        this.decoder.binary = this.options.state('him', OPT_BINARY) === 'yes';
        break;
      }
      case 'subnegotiation':
        if (ev.option === OPT_COM_PORT) this.onComPort(parseServerReply(ev.data));
        else this.notes.push(`subnegotiation of option ${ev.option} ignored`);
        break;
      case 'malformed':
        this.notes.push(ev.reason);
        break;
      case 'command':
        break; // NOP, GA, AYT...: nothing a client answers
    }
  }

  private onComPort(r: ServerReply): void {
    switch (r.kind) {
      case 'malformed':
        this.notes.push(r.reason);
        return;
      case 'client-code':
        this.notes.push(`COM-PORT-OPTION client code ${r.code} received from the server`);
        return;
      case 'signature':
        if (r.text === '') this.sendComPort({ code: CPO.SIGNATURE, value: Buffer.from('hil', 'latin1') });
        else this.signature = r.text;
        break;
      case 'modemstate':
        this.modemState = r.value;
        break;
      case 'flow-suspend':
        this.suspended = true;
        return;
      case 'flow-resume':
        this.suspended = false;
        return;
      default:
        break;
    }
    const code = replyCode(r);
    if (code === undefined) return;
    const list = this.waiters.get(code);
    const w = list?.shift();
    if (list && list.length === 0) this.waiters.delete(code);
    w?.(r);
  }

  private sendComPort(r: ComPortRequest): void {
    this.rawWrite(subnegotiation(OPT_COM_PORT, comPortPayload(r)));
  }

  /** Telnet bytes straight to the socket (negotiation, subnegotiation). */
  private rawWrite(b: Buffer): void {
    const s = this.sock;
    if (s && !s.destroyed && b.length) s.write(b);
  }

  async write(data: Uint8Array | string): Promise<void> {
    const s = this.sock;
    if (!s) throw new LinkOpenError(`${this.description}: not connected`, 'write');
    if (s.destroyed) throw new LinkClosedError(`${this.description}: connection closed`, 'write');
    if (this.suspended) {
      await this.waitFor(() => !this.suspended, Date.now() + this.suspendMs, 'flow control', () => `${this.description}: the server suspended our output (FLOWCONTROL-SUSPEND) for over ${this.suspendMs} ms`).catch((e) => {
        throw e instanceof LinkTimeoutError ? new LinkTimeoutError(e.message, 'write') : new LinkClosedError(`${this.description}: connection closed`, 'write');
      });
    }
    const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
    this.onTraffic?.('tx', b);
    const wire = escapeData(b, this.options.state('us', OPT_BINARY) === 'yes');
    await writeSocket(s, wire, this.description);
  }

  private requireComPort(what: string): Socket {
    const s = this.sock;
    if (!s || s.destroyed) throw new LinkClosedError(`${this.description}: not connected (${what})`, 'control');
    if (this.options.state('us', OPT_COM_PORT) !== 'yes') throw new LinkOpenError(`${this.description}: COM-PORT-OPTION is not in effect (${what})`, 'control');
    return s;
  }

  /**
   * DTR/RTS (e.g. a reset circuit on a UART adapter). Sent without waiting for the answer: RFC
   * 2217 servers differ there (pyserial's notes), and ser2net on a pty cannot set the lines.
   */
  async setSignals(sig: { dtr?: boolean; rts?: boolean }): Promise<void> {
    this.requireComPort('set DTR/RTS');
    if (sig.dtr !== undefined) this.sendComPort(setControl(sig.dtr ? CONTROL.DTR_ON : CONTROL.DTR_OFF));
    if (sig.rts !== undefined) this.sendComPort(setControl(sig.rts ? CONTROL.RTS_ON : CONTROL.RTS_OFF));
  }

  /** A break of `ms` on the remote line (SET-CONTROL BREAK-ON, then BREAK-OFF). */
  async sendBreak(ms: number): Promise<void> {
    this.requireComPort('send break');
    this.sendComPort(setControl(CONTROL.BREAK_ON));
    await sleep(ms);
    this.requireComPort('send break');
    this.sendComPort(setControl(CONTROL.BREAK_OFF));
  }

  /** Discard what the server holds in both directions and what we had received (answer awaited). */
  async purge(): Promise<void> {
    this.requireComPort('purge');
    await this.purgeAnswered(Date.now() + this.answerMs);
  }

  private async dropSocket(): Promise<void> {
    const s = this.sock;
    this.sock = null;
    await destroySocket(s);
  }

  async close(): Promise<void> {
    await this.dropSocket();
    this.rx.markClosed('closed by hil');
    this.wakeAll();
  }
}

function newOptionTable(): OptionTable {
  // We perform BINARY, SGA and COM-PORT-OPTION; the server may perform BINARY, SGA and
  // COM-PORT-OPTION. Anything else (ECHO included: the board echoes, not the server) is refused.
  return new OptionTable({ us: [OPT_BINARY, OPT_SGA, OPT_COM_PORT], him: [OPT_BINARY, OPT_SGA, OPT_COM_PORT] });
}

/** The request code a reply answers (server code - 100). */
function replyCode(r: ServerReply): number | undefined {
  switch (r.kind) {
    case 'baudrate':
      return CPO.SET_BAUDRATE;
    case 'datasize':
      return CPO.SET_DATASIZE;
    case 'parity':
      return CPO.SET_PARITY;
    case 'stopsize':
      return CPO.SET_STOPSIZE;
    case 'control':
      return CPO.SET_CONTROL;
    case 'purge':
      return CPO.PURGE_DATA;
    case 'signature':
      return CPO.SIGNATURE;
    case 'linestate-mask':
      return CPO.SET_LINESTATE_MASK;
    case 'modemstate-mask':
      return CPO.SET_MODEMSTATE_MASK;
    default:
      return undefined;
  }
}

