/**
 * Device states kept in the history store (harness/history: table hil_device_states, SQLite or
 * PostgreSQL), seen through health's DeviceStateStore. `--no-history` (or HIL_HISTORY=off): the
 * states are not read or kept — a MemoryStateStore for the one command, and the caller says so.
 * A history that cannot be opened is one warning; the command goes on without states.
 */
import { oneLine } from '../errors.js';
import { describeLocation, openHistory, resolveHistoryLocation, type HistoryLocation, type HistoryStore } from '../history/index.js';
import { MemoryStateStore, type DeviceState, type DeviceStateStore } from './state.js';

/** The history's device-state table as a DeviceStateStore. */
export function historyStateStore(h: Pick<HistoryStore, 'getDeviceState' | 'setDeviceState' | 'listDeviceStates'>): DeviceStateStore {
  type Row = NonNullable<Awaited<ReturnType<HistoryStore['getDeviceState']>>>;
  const from = (r: Row): DeviceState => ({
    device: r.device,
    state: r.state,
    since: r.since,
    ...(r.reason !== null ? { reason: r.reason } : {}),
    failures: r.consecutiveFailures,
    updatedAt: r.updatedAt,
  });
  return {
    async getDeviceState(device) {
      const r = await h.getDeviceState(device);
      return r ? from(r) : undefined;
    },
    async setDeviceState(s) {
      await h.setDeviceState(s.device, { state: s.state, reason: s.reason ?? null, since: s.since, consecutiveFailures: s.failures });
    },
    async listDeviceStates() {
      return (await h.listDeviceStates()).map(from);
    },
  };
}

export interface OpenedStates {
  store: DeviceStateStore;
  /** False when states are not kept (--no-history, or the history could not be opened). */
  kept: boolean;
  /** Where they are kept (a file or a redacted URL), or why not. */
  where: string;
  close(): Promise<void>;
}

/**
 * The device states for a command: `history` is the --history value (a path or postgres:// URL;
 * `false` for --no-history; undefined: HIL_HISTORY, else the default file).
 */
export async function openDeviceStates(history: string | false | undefined, opts: { onWarning?: (line: string) => void; cwd?: string } = {}): Promise<OpenedStates> {
  const loc: HistoryLocation = resolveHistoryLocation({ flag: typeof history === 'string' ? history : undefined, off: history === false, cwd: opts.cwd });
  if (loc.kind === 'off') return { store: new MemoryStateStore(), kept: false, where: 'not kept (--no-history)', close: async () => {} };
  try {
    const h = await openHistory(loc, { onWarning: opts.onWarning });
    return { store: historyStateStore(h), kept: true, where: describeLocation(loc), close: () => h.close() };
  } catch (e) {
    const why = `device states not kept: history ${describeLocation(loc)} cannot be opened (${oneLine(e)})`;
    opts.onWarning?.(why);
    return { store: new MemoryStateStore(), kept: false, where: why, close: async () => {} };
  }
}
