/**
 * TEST DOUBLE (a real TCP relay with fault injection, not a board): sits between hil and a board
 * reached over TCP (QEMU `-serial tcp:...`, ser2net, the simulated board's TCP link) and forwards
 * bytes both ways until told to misbehave. Used by flash tests (link drop mid-transfer, resume)
 * and meant for issue 6's fault tests too: drop after N bytes, drop now, added latency, refuse
 * connections for a while. One upstream connection per accepted client.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type Direction = 'toBoard' | 'toHost';

export interface FaultProxyOptions {
  /** Where the board listens: `host:port` or `socket://host:port`. */
  target: string;
  /** Port to listen on (default 0: any free port) on 127.0.0.1. */
  port?: number;
  /** When dropping, also close the upstream (board-side) connection (default true). */
  dropUpstream?: boolean;
}

export interface FaultProxyStats {
  toBoard: number;
  toHost: number;
  connections: number;
  drops: number;
}

function parseTarget(t: string): { host: string; port: number } {
  const m = /^(?:socket:\/\/)?([^:]+):(\d+)$/.exec(t);
  if (!m) throw new Error(`fault proxy: bad target '${t}' (want host:port)`);
  return { host: m[1]!, port: Number(m[2]) };
}

export class FaultProxy {
  readonly stats: FaultProxyStats = { toBoard: 0, toHost: 0, connections: 0, drops: 0 };
  private pairs = new Set<{ client: Socket; upstream: Socket }>();
  private dropAt: { dir: Direction; at: number } | undefined;
  private latencyMs = 0;
  private refuseUntil = 0;

  private constructor(private readonly server: Server, private readonly opts: FaultProxyOptions) {}

  static async start(opts: FaultProxyOptions): Promise<FaultProxy> {
    const target = parseTarget(opts.target);
    let proxy!: FaultProxy;
    const server = createServer((client) => proxy.accept(client, target));
    proxy = new FaultProxy(server, opts);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** Connection string for hil: `socket://127.0.0.1:PORT`. */
  get url(): string {
    return `socket://127.0.0.1:${this.port}`;
  }

  /** Cut the link once `bytes` more bytes have gone in direction `dir` (the cut falls mid-chunk). */
  dropAfter(bytes: number, dir: Direction = 'toBoard'): void {
    this.dropAt = { dir, at: (dir === 'toBoard' ? this.stats.toBoard : this.stats.toHost) + bytes };
  }

  /** Cut every open connection now. */
  drop(): void {
    this.stats.drops++;
    for (const p of this.pairs) {
      p.client.destroy();
      if (this.opts.dropUpstream !== false) p.upstream.destroy();
    }
    this.pairs.clear();
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Close new connections immediately for the next `ms` milliseconds. */
  refuseFor(ms: number): void {
    this.refuseUntil = Date.now() + ms;
  }

  async close(): Promise<void> {
    this.dropAt = undefined;
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, target: { host: string; port: number }): void {
    if (Date.now() < this.refuseUntil) {
      client.destroy();
      return;
    }
    this.stats.connections++;
    client.setNoDelay(true);
    const upstream = connect({ host: target.host, port: target.port });
    upstream.setNoDelay(true);
    const pair = { client, upstream };
    this.pairs.add(pair);
    const forward = (from: Socket, to: Socket, dir: Direction) => {
      from.on('data', (buf: Buffer) => {
        let data = buf;
        const counted = dir === 'toBoard' ? this.stats.toBoard : this.stats.toHost;
        let cut = false;
        if (this.dropAt && this.dropAt.dir === dir && counted + data.length >= this.dropAt.at) {
          data = data.subarray(0, Math.max(0, this.dropAt.at - counted));
          cut = true;
        }
        if (dir === 'toBoard') this.stats.toBoard += data.length;
        else this.stats.toHost += data.length;
        const send = () => {
          if (data.length > 0 && !to.destroyed) to.write(data);
          if (cut) {
            this.dropAt = undefined;
            // Let the partial data reach the other side before cutting.
            setImmediate(() => this.drop());
          }
        };
        if (this.latencyMs > 0) setTimeout(send, this.latencyMs);
        else send();
      });
    };
    forward(client, upstream, 'toBoard');
    forward(upstream, client, 'toHost');
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
    upstream.on('close', () => {
      this.pairs.delete(pair);
      client.destroy();
    });
  }
}
