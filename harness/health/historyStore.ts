/**
 * Device states kept in the history store (harness/history: table hil_device_states, SQLite or
 * PostgreSQL), seen through health's DeviceStateStore. `--no-history` (or HIL_HISTORY=off): the
 * states are not read or kept — a MemoryStateStore for the one command, and the caller says so.
 * A history that cannot be opened is one warning; the command goes on without states.
 */
import { oneLine } from '../errors.js';
import { describeLocation, openHistory, resolveHistoryLocation, type HistoryLocation, type HistoryStore } from '../history/index.js';
import type { RunResult } from '../scenario/result.js';
import { MemoryStateStore, type DeviceState, type DeviceStateStore } from './state.js';

/** The history's device-state table as a DeviceStateStore. */
export function historyStateStore(h: Pick<HistoryStore, 'getDeviceState' | 'getBoardState' | 'setDeviceState' | 'listDeviceStates'>): DeviceStateStore {
  type Row = NonNullable<Awaited<ReturnType<HistoryStore['getDeviceState']>>>;
  const from = (r: Row): DeviceState => ({
    device: r.device,
    state: r.state,
    since: r.since,
    ...(r.reason !== null ? { reason: r.reason } : {}),
    failures: r.consecutiveFailures,
    updatedAt: r.updatedAt,
    ...(r.boardId !== null ? { boardId: r.boardId } : {}),
  });
  return {
    async getDeviceState(device) {
      const r = await h.getDeviceState(device);
      return r ? from(r) : undefined;
    },
    async getBoardState(boardId) {
      const r = await h.getBoardState(boardId);
      return r ? from(r) : undefined;
    },
    async setDeviceState(s) {
      await h.setDeviceState(s.device, { state: s.state, reason: s.reason ?? null, since: s.since, consecutiveFailures: s.failures, boardId: s.boardId ?? null });
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
  /**
   * Records a `hil device health` run in the same history (kind `health`); never throws: a
   * history that cannot be written is one warning (onWarning). Undefined when nothing was recorded.
   */
  recordHealthRun(run: RunResult): Promise<number | undefined>;
  close(): Promise<void>;
}

/**
 * The device states for a command: `history` is the --history value (a path or postgres:// URL;
 * `false` for --no-history; undefined: HIL_HISTORY, else the default file).
 */
export async function openDeviceStates(history: string | false | undefined, opts: { onWarning?: (line: string) => void; cwd?: string } = {}): Promise<OpenedStates> {
  const loc: HistoryLocation = resolveHistoryLocation({ flag: typeof history === 'string' ? history : undefined, off: history === false, cwd: opts.cwd });
  const none = async () => undefined;
  if (loc.kind === 'off') return { store: new MemoryStateStore(), kept: false, where: 'not kept (--no-history)', recordHealthRun: none, close: async () => {} };
  try {
    const h = await openHistory(loc, { onWarning: opts.onWarning });
    const where = describeLocation(loc);
    const recordHealthRun = async (run: RunResult) => {
      try {
        return await h.recordRun(run, { kind: 'health' });
      } catch (e) {
        opts.onWarning?.(`history not recorded (${where}): ${oneLine(e)}`);
        return undefined;
      }
    };
    return { store: historyStateStore(h), kept: true, where, recordHealthRun, close: () => h.close() };
  } catch (e) {
    const why = `device states not kept: history ${describeLocation(loc)} cannot be opened (${oneLine(e)})`;
    opts.onWarning?.(why);
    return { store: new MemoryStateStore(), kept: false, where: why, recordHealthRun: none, close: async () => {} };
  }
}
