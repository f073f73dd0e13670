/**
 * Device health: each bench device is `ok`, `suspect` or `bad`, and how it moves between them.
 *
 * - `ok`: no unresolved infrastructure error. A device never recorded is `ok`.
 * - `suspect`: it ended a run with an infrastructure error (link or board), whether or not the
 *   recovery ladder (ladder.ts) brought it back, or its health scenario failed. It is still run.
 * - `bad`: the ladder could not bring it back N times in a row (`badAfter`, default 3). A bad
 *   device is not scheduled by `hil run --bench`; it is reported with the reason and since when.
 *
 * Only a passing `hil device health NAME` returns a device to `ok`. A run without an
 * infrastructure error ends a series of failures (the count starts again) but leaves the state.
 *
 * A state belongs to the board, not to its bench name: it is kept under the board's unique id
 * (machine.unique_id()) once hil has seen it, labelled with the bench name it was last seen under.
 * - Before a run, the board at a bench name is not known: the state of the board last seen under
 *   that name applies (a bad one is not scheduled).
 * - Once a board answers under a name, its unique id decides: its own state if it has one (wherever
 *   it was seen before), else a new one (`ok`). When the board last seen under that name was a
 *   different one, that is reported ("another board under NAME"); the old board's state stays
 *   with its unique id (a bad board moved to another name is still bad there once seen).
 * - A name whose board was never identified (never reached, or no unique id) keeps a state of its
 *   own; the first board identified under the name takes it over.
 *
 * The states live in a DeviceStateStore (the history store, harness/history, keeps them; a
 * MemoryStateStore serves `--no-history` runs and tests).
 */

export type HealthState = 'ok' | 'suspect' | 'bad';
export const HEALTH_STATES: readonly HealthState[] = ['ok', 'suspect', 'bad'];

/** The default N: a device is `bad` after this many consecutive failed recoveries. */
export const DEFAULT_BAD_AFTER = 3;

export interface DeviceState {
  /** The bench name of the device (what `hil device health NAME` takes). */
  device: string;
  state: HealthState;
  /** When the device entered this state (ISO 8601 UTC). */
  since: string;
  /** One line: why it is in this state (absent for a plain `ok`). */
  reason?: string;
  /** Consecutive failures so far (failed recoveries, failed health scenarios). */
  failures: number;
  /** When this record was last written (ISO 8601 UTC). */
  updatedAt: string;
  /** The board's unique id (hex): the state is this board's. Absent: the bench name's own (board not identified). */
  boardId?: string;
}

/** Where device states are kept. The history store implements it (harness/health/historyStore.ts). */
export interface DeviceStateStore {
  /** The state that applies to bench name `device` before its board is known: the last one written under that name. */
  getDeviceState(device: string): Promise<DeviceState | undefined>;
  /** The state of the board with this unique id. */
  getBoardState(boardId: string): Promise<DeviceState | undefined>;
  /** Writes the board's state (`boardId`), else the name's own; a board's write under a name ends the name's own record. */
  setDeviceState(state: DeviceState): Promise<void>;
  /** The state that applies to each bench name. */
  listDeviceStates(): Promise<DeviceState[]>;
}

/** States kept in memory for one process: `--no-history` runs (nothing survives the run) and tests. */
export class MemoryStateStore implements DeviceStateStore {
  /** By key (`board:ID` or `name:NAME`), in write order (a rewrite moves to the end). */
  private readonly states = new Map<string, DeviceState>();
  constructor(initial: DeviceState[] = []) {
    for (const s of initial) this.states.set(keyOf(s), { ...s });
  }
  async getDeviceState(device: string): Promise<DeviceState | undefined> {
    const s = [...this.states.values()].filter((x) => x.device === device).pop();
    return s ? { ...s } : undefined;
  }
  async getBoardState(boardId: string): Promise<DeviceState | undefined> {
    const s = this.states.get(`board:${boardId}`);
    return s ? { ...s } : undefined;
  }
  async setDeviceState(state: DeviceState): Promise<void> {
    const k = keyOf(state);
    this.states.delete(k);
    this.states.set(k, { ...state });
    if (state.boardId !== undefined) this.states.delete(`name:${state.device}`);
  }
  async listDeviceStates(): Promise<DeviceState[]> {
    const latest = new Map<string, DeviceState>();
    for (const s of this.states.values()) latest.set(s.device, { ...s });
    return [...latest.values()].sort((a, b) => a.device.localeCompare(b.device));
  }
}

const keyOf = (s: DeviceState) => (s.boardId !== undefined ? `board:${s.boardId}` : `name:${s.device}`);

/** The state that applies to the board found under bench name `device` (see the rules above). */
export interface BoardAtName {
  /** Its state so far (undefined: none yet, it starts `ok`). */
  prev: DeviceState | undefined;
  /** The board the state is kept under (undefined: not identified, the name's own). */
  boardId?: string;
  /** The board last seen under this name, when it is another one. */
  replaced?: DeviceState;
}

/**
 * Which state a board answering under `device` continues: `boardId` is its unique id (null or
 * undefined: not known — it never answered, or has none — so the board last seen there is presumed).
 */
export async function stateOfBoardAt(store: DeviceStateStore, device: string, boardId: string | null | undefined): Promise<BoardAtName> {
  const named = await store.getDeviceState(device);
  if (!boardId) return { prev: named, ...(named?.boardId !== undefined ? { boardId: named.boardId } : {}) };
  const own = await store.getBoardState(boardId);
  const replaced = named?.boardId !== undefined && named.boardId !== boardId ? named : undefined;
  // The name's own record (no board identified under it yet) is this board's to take over.
  const prev = own ?? (named && named.boardId === undefined ? named : undefined);
  return { prev, boardId, ...(replaced ? { replaced } : {}) };
}

/** One line: another board answered under a name than the one last seen there. */
export function replacedNote(device: string, boardId: string, replaced: DeviceState, now: DeviceState): string {
  return `${device}: another board (unique id ${boardId}) than the one last seen under ${device} (${replaced.boardId}, ${replaced.state} since ${replaced.since}): its own state, ${now.state}; ${replaced.boardId}'s ${replaced.state} stays with that board`;
}

/** What happened to a device, as the state machine sees it. */
export type HealthEvent =
  /** A run ended without an infrastructure error on this device. */
  | { kind: 'run-clean' }
  /** A run ended with an infrastructure error and the ladder brought the board back (`by`: the step). */
  | { kind: 'recovered'; error: string; by: string }
  /** A run ended with an infrastructure error and no step of the ladder brought it back. */
  | { kind: 'not-recovered'; error: string; steps: string }
  /** The health scenario ran: passed, or failed with a reason. */
  | { kind: 'health'; passed: boolean; reason?: string };

export interface TransitionOptions {
  badAfter?: number;
  now?: Date;
}

/** The state before any record: `ok`, no failures. */
export function initialState(device: string, now: Date): DeviceState {
  const t = now.toISOString();
  return { device, state: 'ok', since: t, failures: 0, updatedAt: t };
}

/** The next state of a device after `event`. */
export function nextState(prev: DeviceState | undefined, device: string, event: HealthEvent, opts: TransitionOptions & { boardId?: string } = {}): DeviceState {
  const now = opts.now ?? new Date();
  const badAfter = opts.badAfter ?? DEFAULT_BAD_AFTER;
  const p = prev ?? initialState(device, now);
  const t = now.toISOString();
  const boardId = opts.boardId ?? prev?.boardId;
  const to = (state: HealthState, failures: number, reason?: string): DeviceState => ({
    device,
    state,
    since: state === p.state ? p.since : t,
    ...(reason !== undefined ? { reason } : {}),
    failures,
    updatedAt: t,
    ...(boardId !== undefined ? { boardId } : {}),
  });
  switch (event.kind) {
    case 'run-clean':
      // The series of failures ends; the state (and its reason) stays until a health check passes.
      return to(p.state, 0, p.reason);
    case 'recovered':
      return to(p.state === 'bad' ? 'bad' : 'suspect', 0, p.state === 'bad' ? p.reason : `infrastructure error (${event.error}); recovered by ${event.by}`);
    case 'not-recovered': {
      const failures = p.failures + 1;
      if (p.state === 'bad' || failures >= badAfter) {
        return to('bad', failures, `not recovered ${failures} time${failures === 1 ? '' : 's'} in a row (last: ${event.error}; ${event.steps})`);
      }
      return to('suspect', failures, `infrastructure error (${event.error}); not recovered (${event.steps}), ${failures}/${badAfter} before bad`);
    }
    case 'health': {
      if (event.passed) return to('ok', 0);
      const failures = p.failures + 1;
      const why = `health scenario failed: ${event.reason ?? 'no reason given'}`;
      if (p.state === 'bad') return to('bad', failures, why);
      if (failures >= badAfter) return to('bad', failures, `${why} (${failures} failures in a row)`);
      return to('suspect', failures, `${why} (${failures}/${badAfter} before bad)`);
    }
  }
}

/** One line about a bad device for a run that did not schedule it. */
export function notScheduledReason(s: DeviceState): string {
  const board = s.boardId !== undefined ? ` (board ${s.boardId}, the one last seen there; another board there gets its own state when it answers)` : '';
  return `device ${s.device} is bad since ${s.since} (${s.reason ?? 'no reason recorded'}): not run; \`hil device health ${s.device}\` returns it to ok when it passes${board}`;
}
