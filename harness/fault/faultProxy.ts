/**
 * The fault-injecting link: a TCP listener on 127.0.0.1 (hil connects to it with its ordinary
 * `socket://` transport) that relays to a board over TCP (`socket://host:port`: the simulated
 * board's TCP link, QEMU's tcp serial, ser2net) or a serial path (`/dev/pts/N`, a real port,
 * through `serialport`). Between the two it applies fault rules (rule.ts): scripted ones given at
 * start, or actions injected on command. Every byte decision is counted and logged in `events`.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { seededRandom, patternBytes, type Action, type Direction, type FaultRule } from './rule.js';

export interface FaultProxyOptions {
  /** The board: `socket://host:port`, `host:port`, or a serial device path. */
  upstream: string;
  /** Port to listen on (0 or omitted: any free port). */
  port?: number;
  rules?: FaultRule[];
  /** Seed for every random choice (default 1). */
  seed?: number;
  /** Serial baud rate when the upstream is a serial path (default 115200). */
  baudRate?: number;
}

export interface FaultEvent {
  t: number;
  conn: number;
  dir: Direction | 'both';
  action: Action['kind'] | 'open' | 'close';
  /** Byte position in `dir` where it fired. */
  at?: number;
}

export interface FaultProxyStats {
  connections: number;
  toBoard: number;
  toHost: number;
  fired: number;
}

interface DirState {
  count: number;
  tail: Buffer;
  delayMs: number;
  corrupt: number;
  duplicate: number;
  truncate: number;
  stallRelease?: Promise<void>;
  chain: Promise<void>;
}

interface Conn {
  id: number;
  opened: number;
  client: Socket;
  upstream: Duplex;
  dirs: Record<Direction, DirState>;
  patternSeen: Map<FaultRule, number>;
  patternAt: Map<FaultRule, number>;
  timers: NodeJS.Timeout[];
  fired: Set<FaultRule>;
  /** A drop fired: nothing more is relayed either way, the sockets close on the next tick. */
  cut: boolean;
  closed: boolean;
}

function newDir(): DirState {
  return { count: 0, tail: Buffer.alloc(0), delayMs: 0, corrupt: 0, duplicate: 0, truncate: 0, chain: settled };
}

const settled: Promise<void> = Promise.resolve();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());

export class FaultProxy {
  readonly events: FaultEvent[] = [];
  readonly stats: FaultProxyStats = { connections: 0, toBoard: 0, toHost: 0, fired: 0 };
  private readonly conns = new Set<Conn>();
  private readonly firedOnce = new Set<FaultRule>();
  private rules: FaultRule[];
  private readonly rand: () => number;
  private readonly t0 = Date.now();

  private constructor(private readonly server: Server, private readonly opts: FaultProxyOptions) {
    this.rules = [...(opts.rules ?? [])];
    this.rand = seededRandom(opts.seed ?? 1);
  }

  static async start(opts: FaultProxyOptions): Promise<FaultProxy> {
    let proxy!: FaultProxy;
    const server = createServer((c) => proxy.accept(c));
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

  /** The connection string hil uses: `socket://127.0.0.1:PORT`. */
  get connection(): string {
    return `socket://127.0.0.1:${this.port}`;
  }

  /** Add a scripted rule (applies to connections opened from now on, and to open ones for byte/pattern triggers). */
  addRule(rule: FaultRule): void {
    this.rules.push(rule);
  }

  /** Remove all rules and lift stalls, delays and pending corruption: a clean link again. */
  heal(): void {
    this.rules = [];
    for (const c of this.conns) for (const d of Object.values(c.dirs)) {
      d.delayMs = 0; d.corrupt = 0; d.duplicate = 0; d.truncate = 0;
    }
    this.releaseStalls();
  }

  /** Apply an action now to every open connection, in `dir` (default both). */
  inject(action: Action, dir: Direction | 'both' = 'both'): void {
    for (const c of [...this.conns]) {
      for (const d of dir === 'both' ? (['toBoard', 'toHost'] as const) : [dir]) this.apply(c, d, action);
      if (action.kind === 'drop') break;
    }
  }

  private stallResolvers: (() => void)[] = [];
  private releaseStalls(): void {
    for (const r of this.stallResolvers.splice(0)) r();
  }

  async close(): Promise<void> {
    this.releaseStalls();
    for (const c of [...this.conns]) this.end(c);
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private log(conn: number, dir: FaultEvent['dir'], action: FaultEvent['action'], at?: number): void {
    this.events.push({ t: Date.now() - this.t0, conn, dir, action, ...(at === undefined ? {} : { at }) });
  }

  private openUpstream(): Duplex {
    const u = this.opts.upstream;
    const m = /^(?:socket:\/\/)?([^/:]+):(\d+)$/.exec(u);
    if (m) {
      const s = connect({ host: m[1]!, port: Number(m[2]) });
      s.setNoDelay(true);
      return s;
    }
    return new SerialPort({ path: u, baudRate: this.opts.baudRate ?? 115200, autoOpen: true });
  }

  private accept(client: Socket): void {
    client.setNoDelay(true);
    const id = ++this.stats.connections;
    let upstream: Duplex;
    try {
      upstream = this.openUpstream();
    } catch {
      client.destroy();
      return;
    }
    const conn: Conn = { id, opened: Date.now(), client, upstream, dirs: { toBoard: newDir(), toHost: newDir() }, patternSeen: new Map(), patternAt: new Map(), timers: [], fired: new Set(), cut: false, closed: false };
    this.conns.add(conn);
    this.log(id, 'both', 'open');
    for (const rule of this.rules) {
      if (rule.when.kind === 'time' && this.armed(rule, conn)) {
        const r = rule;
        const when = r.when as { kind: 'time'; ms: number };
        conn.timers.push(setTimeout(() => this.fire(conn, 'toBoard', r), when.ms));
      }
    }
    client.on('data', (b: Buffer) => this.onData(conn, 'toBoard', b));
    upstream.on('data', (b: Buffer) => this.onData(conn, 'toHost', b));
    const end = () => this.end(conn);
    client.on('close', end);
    client.on('error', end);
    upstream.on('close', end);
    upstream.on('error', end);
  }

  private armed(rule: FaultRule, conn: Conn): boolean {
    return rule.everyConnection === true ? !conn.fired.has(rule) : !this.firedOnce.has(rule);
  }

  private fire(conn: Conn, dir: Direction, rule: FaultRule): void {
    if (!this.armed(rule, conn) || conn.closed) return;
    conn.fired.add(rule);
    if (!rule.everyConnection) this.firedOnce.add(rule);
    if (rule.probability !== undefined && this.rand() >= rule.probability) return;
    this.stats.fired++;
    const d = rule.when.kind === 'bytes' || rule.when.kind === 'pattern' ? rule.when.dir : dir;
    this.apply(conn, d, rule.do);
  }

  private apply(conn: Conn, dir: Direction, a: Action): void {
    const s = conn.dirs[dir];
    this.log(conn.id, a.kind === 'drop' ? 'both' : dir, a.kind, s.count);
    switch (a.kind) {
      case 'drop':
        // Nothing from the trigger point on is relayed (the cut falls at the exact byte, mid-chunk);
        // bytes already forwarded get a tick to reach the far side, then both sockets close.
        conn.cut = true;
        setImmediate(() => this.end(conn));
        break;
      case 'stall': {
        let release!: () => void;
        const p = new Promise<void>((r) => (release = r));
        this.stallResolvers.push(release);
        if (a.ms !== undefined) setTimeout(release, a.ms).unref?.();
        s.stallRelease = p;
        break;
      }
      case 'delay':
        s.delayMs = a.ms;
        break;
      case 'corrupt':
        s.corrupt += a.count ?? 1;
        break;
      case 'duplicate':
        s.duplicate += a.count ?? 1;
        break;
      case 'truncate':
        s.truncate = a.count ?? Number.POSITIVE_INFINITY;
        break;
    }
  }

  /** Where (index in `chunk`, 0..len) the rule's byte or pattern trigger falls, or -1. */
  private triggerIndex(conn: Conn, dir: Direction, rule: FaultRule, chunk: Buffer): number {
    const s = conn.dirs[dir];
    const w = rule.when;
    if (w.kind === 'now') return 0;
    if (w.kind === 'bytes') {
      if (w.dir !== dir) return -1;
      const i = w.at - s.count;
      return i >= 0 && i < chunk.length ? i : i < 0 ? 0 : -1;
    }
    if (w.kind === 'pattern') {
      if (w.dir !== dir) return -1;
      let at = conn.patternAt.get(rule);
      if (at === undefined) {
        const pat = patternBytes(w.pattern);
        const hay = Buffer.concat([s.tail, chunk]);
        let count = conn.patternSeen.get(rule) ?? 0;
        let from = 0;
        for (;;) {
          const j = hay.indexOf(pat, from);
          if (j < 0) break;
          from = j + 1;
          const endInChunk = j + pat.length - s.tail.length;
          if (endInChunk <= 0) continue; // counted with the previous chunk
          count++;
          if (count >= (w.nth ?? 1)) {
            at = s.count + endInChunk + (w.after ?? 0);
            conn.patternAt.set(rule, at);
            break;
          }
        }
        conn.patternSeen.set(rule, count);
        if (at === undefined) return -1;
      }
      const i = at - s.count;
      return i <= 0 ? 0 : i <= chunk.length ? i : -1;
    }
    return -1;
  }

  private onData(conn: Conn, dir: Direction, chunk: Buffer): void {
    if (conn.closed || conn.cut) return;
    const s = conn.dirs[dir];
    let rest = chunk;
    // Split the chunk at every trigger point so actions start at the exact byte.
    for (;;) {
      let best = -1;
      let bestRule: FaultRule | undefined;
      for (const rule of this.rules) {
        if (rule.when.kind === 'time' || !this.armed(rule, conn)) continue;
        const i = this.triggerIndex(conn, dir, rule, rest);
        if (i >= 0 && (best < 0 || i < best)) {
          best = i;
          bestRule = rule;
        }
      }
      if (!bestRule) break;
      this.forward(conn, dir, rest.subarray(0, best));
      rest = rest.subarray(best);
      conn.patternSeen.delete(bestRule);
      conn.patternAt.delete(bestRule);
      this.fire(conn, dir, bestRule);
      if (conn.closed || conn.cut) return;
    }
    this.forward(conn, dir, rest);
    s.tail = Buffer.from(Buffer.concat([s.tail, chunk]).subarray(-64));
  }

  private forward(conn: Conn, dir: Direction, data: Buffer): void {
    if (data.length === 0) return;
    const s = conn.dirs[dir];
    s.count += data.length;
    if (dir === 'toBoard') this.stats.toBoard += data.length;
    else this.stats.toHost += data.length;
    let out = data;
    if (s.truncate > 0) {
      const n = Math.min(s.truncate, out.length);
      s.truncate -= n;
      out = out.subarray(n);
    }
    if (s.corrupt > 0 && out.length > 0) {
      out = Buffer.from(out);
      const n = Math.min(s.corrupt, out.length);
      for (let i = 0; i < n; i++) out[i] = out[i]! ^ (1 << Math.floor(this.rand() * 8));
      s.corrupt -= n;
    }
    if (s.duplicate > 0 && out.length > 0) {
      const n = Math.min(s.duplicate, out.length);
      out = Buffer.concat([out.subarray(0, n), out.subarray(0, n), out.subarray(n)]);
      s.duplicate -= n;
    }
    if (out.length === 0) return;
    const to = dir === 'toBoard' ? conn.upstream : conn.client;
    const stall = s.stallRelease;
    const delay = s.delayMs;
    if (!stall && delay === 0 && conn.dirs[dir].chain === settled) {
      if (!to.destroyed) to.write(out);
      return;
    }
    s.chain = s.chain.then(async () => {
      if (stall) await stall;
      if (s.stallRelease === stall) s.stallRelease = undefined;
      if (delay > 0) await sleep(delay);
      if (!conn.closed && !to.destroyed) to.write(out);
    });
  }

  private end(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    for (const t of conn.timers) clearTimeout(t);
    this.conns.delete(conn);
    conn.client.destroy();
    conn.upstream.destroy();
    this.log(conn.id, 'both', 'close');
  }
}
