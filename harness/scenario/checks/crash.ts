/**
 * A board that dies in a check: its console is read for the firmware's fault banner, so a model
 * that crashes the board is a verdict about the product (FAIL "loading X crashed the board:
 * HardFault ...", with the console text), not a link fault. The banners are what the fault
 * handlers print: MicroPython's qemu port (ports/qemu/mcu/arm/errorhandler.c: "HardFault
 * exception caught:" and a register dump, then a loop) and its stm32 port (ports/stm32/stm32_it.c:
 * "HardFault" and the registers, with pyb.fault_debug(True)).
 *
 * A board that reboots instead is a verdict too (FAIL "loading X reset the board"): stm32's
 * HardFault handler resets the MCU before printing anything unless fault debugging is on
 * (ports/stm32/stm32_it.c, HardFault_C_Handler: `if (!pyb_hard_fault_debug) powerctrl_mcu_reset();`),
 * the port every OpenMV stm32 cam runs. It is seen either on the console (a boot banner or
 * "MPY: soft reboot" where the link survives the reset: upstream py/mpconfig.h
 * MICROPY_BANNER_NAME_AND_VERSION, OpenMV's ports/<port>/mp_config.h, ports/stm32/main.c), or,
 * where the link dropped with it (USB re-enumerates), from what the board says when it answers
 * again: the check leaves a mark in the interpreter's RAM and prints time.ticks_ms() as it starts
 * loading; a board that answers without the mark, or with a smaller uptime, booted since.
 *
 * A board whose fault handler prints nothing and spins (OpenMV's alif and mimxrt firmware:
 * SILENT_FAULT_HANDLERS) is seen crashed when it stops answering, its link still open, with
 * nothing printed after the check announced the model. Without any of these nothing is claimed: a board that stops answering is still the link's or
 * the board's (an infrastructure error).
 */
import type { Device, Transcript, TranscriptRecord } from '../../device/types.js';
import { checkSameBoard, OTHER_BOARD_PHASE, OtherBoardError, readIdentity } from '../../device/identify.js';
import { oneLine } from '../../errors.js';

/** A line the fault handlers start their dump with. */
const BANNER = /^(?:HardFault|MemManage|BusFault|UsageFault|NMI|SecureFault)(?: exception caught:?)?\s*$|^FATAL ERROR:/m;
/**
 * A boot banner or the soft-reboot line: the board restarted. Upstream MicroPython's banner
 * ("MicroPython v1.27.0 on 2026-01-01; OpenMV4-H7 with STM32H743": py/mpconfig.h), OpenMV's
 * ("OpenMV v4.7.0; MicroPython v1.27.0; ...": openmv ports/<port>/mp_config.h), and
 * "MPY: soft reboot" (micropython ports/stm32/main.c, openmv ports/<port>/main.c).
 */
const REBOOT = /^MicroPython (?:\(with v2\.0 preview\) )?v\d\S* on \S+; .+$|^OpenMV v?\d\S*; MicroPython v?\d\S*; .+$|^(?:MPY: )?soft reboot\s*$/m;
/**
 * The check's own console lines before a model is loaded and run (harness/board/scenario/inference.py),
 * with the board's uptime (time.ticks_ms()) when it has one; the first may follow the raw REPL's
 * own bytes on its line (raw-paste's `R\x01` and window bytes, the end of the code sent).
 */
const STAGE = /(?<=^|[\x00-\x08\x0b-\x1f])hil: (loading|running) (.+?)(?: \(uptime (\d+) ms\))?$/gm;

export interface ConsoleMark {
  record: TranscriptRecord | undefined;
  length: number;
}

/** Where the console stands now: what the board prints after this is read by `consoleSince`. */
export function markConsole(t: Transcript): ConsoleMark {
  return { record: t.records[t.records.length - 1], length: t.records.length };
}

/** What the board printed (rx) since `mark`, as text. */
export function consoleSince(t: Transcript, mark: ConsoleMark): string {
  const recs = t.records;
  // (a mark dropped from a full transcript: lastIndexOf is -1, so all that is left is read)
  const from = mark.record ? recs.lastIndexOf(mark.record) + 1 : 0;
  let s = '';
  for (let i = from; i < recs.length; i++) if (recs[i]!.dir === 'rx') s += Buffer.from(recs[i]!.data).toString('latin1');
  return s;
}

/**
 * consoleSince read on as the board prints: each record is read once, not the whole console
 * again on every look (a watch looks every 50 ms for as long as a model loads and runs).
 */
export class ConsoleReader {
  private text = '';
  private seen: ConsoleMark['record'];
  constructor(private readonly t: Transcript, private readonly mark: ConsoleMark) {
    this.seen = mark.record;
  }

  /** What the board printed (rx) since the mark, as text, now. */
  read(): string {
    const recs = this.t.records;
    const at = this.seen === undefined ? -1 : recs.lastIndexOf(this.seen);
    if (this.seen !== undefined && at < 0) {
      // The last record read was dropped from a full transcript: read what is left, as consoleSince does.
      this.text = consoleSince(this.t, this.mark);
    } else {
      for (let i = at + 1; i < recs.length; i++) if (recs[i]!.dir === 'rx') this.text += Buffer.from(recs[i]!.data).toString('latin1');
    }
    this.seen = recs[recs.length - 1] ?? this.seen;
    return this.text;
  }
}

export interface Stage {
  what: 'loading' | 'running';
  path: string;
  /** The board's time.ticks_ms() as the stage began (absent: the board has no ticks). */
  uptimeMs?: number;
}

/**
 * What the board printed since `mark` up to the first Ctrl-B hil sent (the raw REPL's way back to
 * the friendly REPL, which prints the boot banner without any reboot: repl/rawRepl.ts sends it
 * when entry stalls), so a banner in it is the board's own restart.
 */
export function consoleBeforeCtrlB(t: Transcript, mark: ConsoleMark): string {
  const recs = t.records;
  const from = mark.record ? recs.lastIndexOf(mark.record) + 1 : 0;
  let s = '';
  for (let i = from; i < recs.length; i++) {
    const r = recs[i]!;
    if (r.dir === 'tx' && r.data.includes(0x02)) break;
    if (r.dir === 'rx') s += Buffer.from(r.data).toString('latin1');
  }
  return s;
}

export interface BoardFault {
  /** `fault`: the firmware's fault handler printed its dump; `reset`: the board rebooted. */
  kind: 'fault' | 'reset';
  /** The banner line, e.g. `HardFault exception caught:`; for a reset the reboot line, or how the reset was seen. */
  banner: string;
  /** The console from the banner on (at most 40 lines), CR removed; for a reset from the stage line on. */
  text: string[];
  /** The last stage the check announced before the fault (`loading` or `running`) and its model. */
  stage?: Stage;
}

const MAX_LINES = 40;

/** The last stage the check announced in `text` (CR removed). */
export function lastStage(text: string): (Stage & { index: number }) | undefined {
  let stage: (Stage & { index: number }) | undefined;
  for (const s of text.matchAll(STAGE)) {
    stage = { what: s[1] as 'loading' | 'running', path: s[2]!.trim(), index: s.index!, ...(s[3] !== undefined ? { uptimeMs: Number(s[3]) } : {}) };
  }
  return stage;
}

function linesOf(text: string): string[] {
  // the raw REPL's own bytes (Ctrl-D ends, the prompt) are not console text
  const lines = text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').split('\n').map((l) => l.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(0, MAX_LINES);
}

const withoutIndex = (s: (Stage & { index: number }) | undefined): Stage | undefined => {
  if (!s) return undefined;
  const { index: _i, ...stage } = s;
  return stage;
};

/** The fault in `console`, if the firmware printed one. */
export function findFault(console: string): BoardFault | undefined {
  const text = console.replace(/\r/g, '');
  const m = BANNER.exec(text);
  if (!m) return undefined;
  const stage = withoutIndex(lastStage(text.slice(0, m.index)));
  const lines = text.slice(m.index).split('\n').map((l) => l.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return { kind: 'fault', banner: m[0].trim(), text: lines.slice(0, MAX_LINES), ...(stage ? { stage } : {}) };
}

/** A reboot on the console after the check announced a stage (a boot banner, "MPY: soft reboot"). */
export function findReboot(console: string): BoardFault | undefined {
  const text = console.replace(/\r/g, '');
  const st = lastStage(text);
  if (!st) return undefined;
  const m = REBOOT.exec(text.slice(st.index));
  if (!m) return undefined;
  return { kind: 'reset', banner: m[0].trim(), text: linesOf(text.slice(st.index)), stage: withoutIndex(st) };
}

/**
 * Ports whose firmware's fault handler prints nothing and does not reset: the core spins until
 * the board is reset from outside, its USB link still there but silent. OpenMV's firmware defines
 * no fault handler for them, nor does MicroPython's port, so the vendor startup's weak default
 * is it (as read in openmv/openmv, and micropython ports/alif, ports/mimxrt; the micropython
 * commit OpenMV pins was not available to read: upstream's ports have none). The value says where.
 */
export const SILENT_FAULT_HANDLERS: Readonly<Record<string, string>> = {
  alif: 'openmv lib/alif/Device/core/M55_HP/source/startup_M55_HP.c: Fault_Handler is an empty loop',
  mimxrt: 'openmv lib/cmsis/src/mimxrt/startup_MIMXRT1062.S: HardFault_Handler branches to itself',
};

/**
 * On a port whose fault handler is silent (SILENT_FAULT_HANDLERS), a board that stopped answering
 * with nothing printed after the check's own stage line (only the raw REPL's control bytes): what
 * a HardFault inside the model does there. The caller holds it to a board that timed out with its
 * link open (not one whose link dropped).
 */
export function findSilentFault(console: string, port: string): BoardFault | undefined {
  const where = SILENT_FAULT_HANDLERS[port];
  if (!where) return undefined;
  const text = console.replace(/\r/g, '');
  const st = lastStage(text);
  if (!st) return undefined;
  const nl = text.indexOf('\n', st.index);
  const after = nl < 0 ? '' : text.slice(nl + 1);
  if (/[^\x00-\x20\x7f>]/.test(after)) return undefined; // the board printed something since: not this
  return {
    kind: 'fault',
    banner: `no answer since the check began ${st.what} it, nothing printed (${port}'s fault handler prints nothing and spins: ${where})`,
    text: linesOf(text.slice(st.index)),
    stage: withoutIndex(st),
  };
}

/** What the board said when it answered again after the link dropped (board/scenario/uptime.py). */
export interface BackAgain {
  /** Its time.ticks_ms() now (null: no ticks). */
  uptimeMs: number | null;
  /** Whether the mark the check left in the REPL's globals before the stage is still there. */
  markKept: boolean;
}

/**
 * The board answered again after the link dropped under a stage the check announced: it rebooted
 * when the mark the check left in the interpreter's RAM is gone (a reset wipes it; nothing else
 * in a run does), or when its uptime now is below the one it had then. (ticks_ms wraps after
 * 2^30 ms, 12.4 days: a wrap inside one model's load would read as a reset.) The uptime alone
 * misses a board that was up for less time before the stage than it took to answer again (one
 * just booted, a slow reconnect): the mark decides there.
 */
export function rebootedSince(console: string, now: BackAgain): BoardFault | undefined {
  const text = console.replace(/\r/g, '');
  const st = lastStage(text);
  if (!st) return undefined;
  const then = st.uptimeMs !== undefined ? `${st.uptimeMs} ms` : 'unknown';
  const uptimes = `uptime ${now.uptimeMs === null ? 'unknown' : `${now.uptimeMs} ms`} when it answered again, ${then} as ${st.what} began`;
  let banner: string | undefined;
  if (!now.markKept) banner = `the mark hil left in its RAM before ${st.what} is gone: it rebooted; ${uptimes}`;
  else if (st.uptimeMs !== undefined && now.uptimeMs !== null && now.uptimeMs < st.uptimeMs) banner = uptimes;
  if (!banner) return undefined;
  return { kind: 'reset', banner, text: linesOf(text.slice(st.index)), stage: withoutIndex(st) };
}

/**
 * Resolves with the fault once the board has printed a banner since `mark` and then gone quiet
 * (its dump is whole: nothing new for `quietMs`, or `maxMs` after the banner); never resolves
 * while there is none. `stop()` ends the watch.
 */
export function watchForFault(t: Transcript, mark: ConsoleMark, quietMs = 300, maxMs = 3000, everyMs = 50): { fault: Promise<BoardFault>; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const fault = new Promise<BoardFault>((resolve) => {
    let seenAt: number | undefined;
    let lastLen = -1;
    let lastChange = 0;
    let f: BoardFault | undefined;
    const reader = new ConsoleReader(t, mark);
    const tick = () => {
      if (stopped) return;
      const text = reader.read();
      const now = Date.now();
      // Looked for again only when the board printed more.
      if (text.length !== lastLen) {
        lastLen = text.length;
        lastChange = now;
        f = findFault(text);
      }
      if (f) {
        seenAt ??= now;
        if (now - lastChange >= quietMs || now - seenAt >= maxMs) {
          resolve(f);
          return;
        }
      }
      timer = setTimeout(tick, everyMs);
    };
    timer = setTimeout(tick, everyMs);
  });
  return {
    fault,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export interface Recovery {
  recovered: boolean;
  /** How, or why not, in words. */
  how: string;
  /** Another board answered after the power cycle or reset (not recovered: nothing more is written to it). */
  otherBoard?: OtherBoardError;
}

/**
 * The board that answers after a crash must be the one that crashed: its identity is read again
 * and held to the one read on connect (the recovery ladder's comparison, device/identify.ts
 * checkSameBoard). Throws OtherBoardError, naming both unique ids, when another board answers
 * (a swapped cable, a hub port switching another board).
 */
export async function checkSameBoardAgain(device: Device, timeoutMs: number): Promise<void> {
  if (!device.identity?.uniqueId) return; // nothing to hold it to (the port has no unique id)
  checkSameBoard(device.name, device.identity, await readIdentity(device, { timeoutMs }), OTHER_BOARD_PHASE);
}

/**
 * Bring back a board that crashed. Where hil holds its power (QEMU it started, its simulated
 * board, the bench's `power:` switch) it is power-cycled at once and must answer as the same
 * board (checkSameBoardAgain: another board is not recovered, `otherBoard` says so); otherwise it is not
 * waited for (the operation in progress ends at its deadline) and said to be not recovered: the
 * models after it are not attempted.
 */
export async function recoverBoard(device: Device, pending: Promise<unknown>, timeoutMs = 30_000): Promise<Recovery> {
  if (device.powerCycle) {
    try {
      await device.powerCycle({ timeoutMs });
    } catch (e) {
      await pending.catch(() => undefined);
      return { recovered: false, how: `power cycle failed: ${(e as Error).message}` };
    }
    await pending.catch(() => undefined);
    try {
      await checkSameBoardAgain(device, timeoutMs);
    } catch (e) {
      if (e instanceof OtherBoardError) return { recovered: false, how: e.message, otherBoard: e };
      return { recovered: false, how: `it does not answer its identity query after the power cycle (${oneLine(e)})` };
    }
    return { recovered: true, how: device.connection === 'qemu' ? 'QEMU restarted' : 'power-cycled' };
  }
  // No power control here: the operation in progress ends at its own deadline (or when the link
  // closes); nothing is sent behind it. A cam that resets itself on the fault (stm32's default)
  // is found again by the next operation.
  pending.catch(() => undefined);
  return { recovered: false, how: 'hil cannot power-cycle this board: it is reached again by the next operation if it reset itself, else power-cycle it' };
}
