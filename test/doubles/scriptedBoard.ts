/**
 * TEST DOUBLE (not a board): a TCP server that answers hil's raw-REPL bytes from a script, to
 * exercise protocol edge cases no real firmware produces on demand — a board that says `R\x00`
 * to raw-paste, one that does not answer raw-paste (an event-driven REPL), one that never
 * answers, garbage where `OK` belongs, a half-written banner.
 */
import { createServer, type Server, type Socket } from 'node:net';

export type Behaviour = 'rawpaste-refused' | 'rawpaste-silent' | 'silent' | 'garbage-ok' | 'banner-noise';

export class ScriptedBoard {
  private server!: Server;
  port = 0;
  received = Buffer.alloc(0);
  constructor(private readonly behaviour: Behaviour) {}

  async start(): Promise<string> {
    this.server = createServer((s) => this.serve(s));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    return `socket://127.0.0.1:${this.port}`;
  }

  private conns = new Set<Socket>();
  private serve(s: Socket): void {
    this.conns.add(s);
    s.on('close', () => this.conns.delete(s));
    let line = Buffer.alloc(0);
    let raw = false;
    if (this.behaviour === 'banner-noise') s.write('boot: camera init\r\nMicroPython v1.26 on OpenMV\r\n>>> imp');
    s.on('data', (d) => {
      this.received = Buffer.concat([this.received, d]);
      if (this.behaviour === 'silent') return;
      for (const c of d) {
        if (raw && c === 0x01 && line.length === 2 && line[0] === 0x05) {
          // A raw-paste request (pyexec.c: Ctrl-A when the line is Ctrl-E + one byte).
          line = Buffer.alloc(0);
          if (this.behaviour === 'rawpaste-silent') continue; // an event-driven REPL (wasm port): no answer
          s.write('R\x00>'); // refused, then the prompt again
        } else if (c === 0x01) {
          raw = true;
          line = Buffer.alloc(0);
          s.write('raw REPL; CTRL-B to exit\r\n>');
        } else if (c === 0x03 || c === 0x02) {
          if (!raw) s.write('\r\n>>> ');
        } else if (raw && c === 0x05) {
          line = Buffer.from([0x05]);
        } else if (raw && c === 0x04) {
          const code = line.toString();
          line = Buffer.alloc(0);
          if (this.behaviour === 'garbage-ok') s.write('XY');
          else s.write(`OK${code.includes('print') ? 'scripted\r\n' : ''}\x04\x04>`);
        } else {
          line = Buffer.concat([line, Buffer.from([c])]);
        }
      }
    });
    s.on('error', () => undefined);
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
