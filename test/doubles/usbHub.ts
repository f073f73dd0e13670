/**
 * TEST DOUBLE of a USB hub with per-port power switching (no USB hub exists here), for the
 * uhubctl test double (test/doubles/uhubctl), which reaches it through the control socket named
 * in the hubs file ($HIL_UHUBCTL_DOUBLE_HUBS). A port's power going off drops the link of the
 * board plugged into it; coming on brings the board back.
 *
 * poweredSimBoard() is such a board: hil's simulated board (harness/sim, its TCP link on a fixed
 * port, its flash in a file) reached through the fault-injecting link (harness/fault) as a real
 * board is reached through its USB cable. `hang()` makes it stop answering (every byte to it is
 * held: a board wedged with its USB link still up), which neither a soft reset nor machine.reset()
 * can get past since nothing reaches the interpreter. Power off stops the board (its flash file
 * is kept, its RAM and the hang are lost); power on starts it again on the same address.
 * `swap()` puts another board (its own unique id and flash) on the port for the next power on.
 */
import { createServer, type Server } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSim, type SimBoard, type StartSimOptions } from '../../harness/sim/index.js';
import { FaultProxy } from '../../harness/fault/index.js';

export interface HubPort {
  /** What uhubctl shows as the attached device (e.g. `1209:abd1 hil simulated board`). */
  device: string;
  off(): Promise<void>;
  on(): Promise<void>;
}

export class SimulatedHub {
  /** Every power switch the hub was asked for, in order. */
  readonly switches: { port: number; on: boolean }[] = [];
  private readonly powered = new Map<number, boolean>();
  private readonly ports = new Map<number, HubPort>();

  private constructor(
    private readonly server: Server,
    readonly location: string,
    readonly nports: number,
    /** The file to put in HIL_UHUBCTL_DOUBLE_HUBS. */
    readonly hubsFile: string,
  ) {}

  static async start(dir: string, location = '1-1', nports = 4): Promise<SimulatedHub> {
    mkdirSync(dir, { recursive: true });
    const control = join(dir, 'hub.sock');
    rmSync(control, { force: true });
    const hubsFile = join(dir, 'hubs.json');
    let hub!: SimulatedHub;
    const server = createServer((sock) => {
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl < 0) return;
        const req = JSON.parse(buf.slice(0, nl)) as { status?: boolean; port?: number; on?: boolean };
        buf = buf.slice(nl + 1);
        void hub.handle(req).then(
          (answer) => sock.end(JSON.stringify(answer) + '\n'),
          (e: Error) => sock.end(JSON.stringify({ error: e.message }) + '\n'),
        );
      });
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(control, r));
    hub = new SimulatedHub(server, location, nports, hubsFile);
    writeFileSync(hubsFile, JSON.stringify({ hubs: [{ location, description: '2109:2813 VIA Labs, Inc. USB2.0 Hub (hil test double), USB 2.10, 4 ports, ppps', ports: nports, control }] }));
    return hub;
  }

  /** Plug a board into `port` (powered). */
  plug(port: number, board: HubPort): void {
    this.ports.set(port, board);
    this.powered.set(port, true);
  }

  isOn(port: number): boolean {
    return this.powered.get(port) ?? true;
  }

  private async handle(req: { status?: boolean; port?: number; on?: boolean }): Promise<unknown> {
    if (req.status) {
      const ports: Record<string, { on: boolean; device?: string }> = {};
      for (let p = 1; p <= this.nports; p++) {
        const on = this.isOn(p);
        ports[String(p)] = { on, ...(on && this.ports.get(p) ? { device: this.ports.get(p)!.device } : {}) };
      }
      return { ports };
    }
    await this.setPower(req.port!, req.on === true);
    return { ok: true };
  }

  /** Switch a port as uhubctl asks the hub to (also for a test's own set-up). */
  async setPower(port: number, on: boolean): Promise<void> {
    this.switches.push({ port, on });
    if (this.isOn(port) !== on) {
      this.powered.set(port, on);
      const b = this.ports.get(port);
      if (b) await (on ? b.on() : b.off());
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export interface PoweredSim extends HubPort {
  /** What hil connects to (the board's "USB cable"): `socket://127.0.0.1:PORT`. */
  readonly connection: string;
  /** The simulated board now running (a new one after each power on). */
  readonly sim: SimBoard;
  /** True while a board is powered and running. */
  readonly running: boolean;
  /** The board stops answering (until it loses power). */
  hang(): void;
  /**
   * Another board is plugged into the port in its place (a swapped cable): from the next power
   * on, the board there has this unique id and its own flash file (`flashFile`, blank at first).
   */
  swap(uniqueId: string): void;
  /** The flash file of the board plugged in now. */
  readonly flashFile: string;
  stop(): Promise<void>;
}

/** `firmware`: how the simulated firmware is built (e.g. `faultDebug`), kept across power cycles. */
export async function poweredSimBoard(opts: { profile: string; dir: string; firmware?: Pick<StartSimOptions, 'faultDebug' | 'mlFault'> }): Promise<PoweredSim> {
  const workDir = join(opts.dir, 'board');
  mkdirSync(workDir, { recursive: true });
  const romfsFile = join(workDir, 'flash.bin');
  let plugged: { uniqueId?: string; romfsFile: string } = { romfsFile };
  let sim: SimBoard | undefined = await startSim({ ...opts.firmware, profile: opts.profile, link: 'tcp', workDir, romfsFile });
  const port = Number(/:(\d+)$/.exec(sim.connection)![1]);
  const proxy = await FaultProxy.start({ upstream: sim.connection });
  const board: PoweredSim = {
    device: '1209:abd1 OpenMV hil simulated board',
    connection: proxy.connection,
    get sim() {
      if (!sim) throw new Error('the board has no power');
      return sim;
    },
    get running() {
      return sim !== undefined;
    },
    get flashFile() {
      return plugged.romfsFile;
    },
    swap(uniqueId: string) {
      plugged = { uniqueId, romfsFile: join(workDir, `flash-${uniqueId}.bin`) };
    },
    hang() {
      // Held forever: on the connections open now and on every later one.
      proxy.inject({ kind: 'stall' });
      proxy.addRule({ when: { kind: 'now' }, do: { kind: 'stall' }, everyConnection: true });
    },
    async off() {
      const s = sim;
      sim = undefined;
      await s?.stop(); // the link goes: connections through the cable close, new ones are refused
      proxy.heal(); // what the powered-off board was doing is gone
    },
    async on() {
      if (sim) return;
      sim = await startSim({ ...opts.firmware, profile: opts.profile, link: 'tcp', port, workDir, romfsFile: plugged.romfsFile, ...(plugged.uniqueId ? { uniqueId: plugged.uniqueId } : {}) });
    },
    async stop() {
      await proxy.close();
      await sim?.stop();
      sim = undefined;
    },
  };
  return board;
}
