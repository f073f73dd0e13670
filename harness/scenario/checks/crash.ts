/**
 * A board that dies in a check: its console is read for the firmware's fault banner, so a model
 * that crashes the board is a verdict about the product (FAIL "loading X crashed the board:
 * HardFault ...", with the console text), not a link fault. The banners are what the fault
 * handlers print: MicroPython's qemu port (ports/qemu/mcu/arm/errorhandler.c: "HardFault
 * exception caught:" and a register dump, then a loop) and its stm32 port (ports/stm32/stm32_it.c:
 * "HardFault" and the registers, with fault debugging on). Without a banner nothing is claimed:
 * a board that stops answering is still the link's or the board's (an infrastructure error).
 */
import type { Device, Transcript, TranscriptRecord } from '../../device/types.js';

/** A line the fault handlers start their dump with. */
const BANNER = /^(?:HardFault|MemManage|BusFault|UsageFault|NMI|SecureFault)(?: exception caught:?)?\s*$|^FATAL ERROR:/m;
/** The check's own console lines before a model is loaded and run (harness/board/scenario/inference.py). */
const STAGE = /^hil: (loading|running) (.+)$/gm;

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

export interface BoardFault {
  /** The banner line, e.g. `HardFault exception caught:`. */
  banner: string;
  /** The console from the banner on (at most 40 lines), CR removed. */
  text: string[];
  /** The last stage the check announced before the fault (`loading` or `running`) and its model. */
  stage?: { what: 'loading' | 'running'; path: string };
}

/** The fault in `console`, if the firmware printed one. */
export function findFault(console: string): BoardFault | undefined {
  const text = console.replace(/\r/g, '');
  const m = BANNER.exec(text);
  if (!m) return undefined;
  let stage: BoardFault['stage'];
  for (const s of text.slice(0, m.index).matchAll(STAGE)) stage = { what: s[1] as 'loading' | 'running', path: s[2]!.trim() };
  const lines = text.slice(m.index).split('\n').map((l) => l.trimEnd());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return { banner: m[0].trim(), text: lines.slice(0, 40), ...(stage ? { stage } : {}) };
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
    const tick = () => {
      if (stopped) return;
      const text = consoleSince(t, mark);
      const now = Date.now();
      if (text.length !== lastLen) {
        lastLen = text.length;
        lastChange = now;
      }
      const f = findFault(text);
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
}

/**
 * Bring back a board that crashed. Where hil holds its power (QEMU it started, its simulated
 * board) it is power-cycled at once; otherwise it is not waited for (the operation in progress
 * ends at its deadline) and said to be not recovered: the models after it are not attempted.
 */
export async function recoverBoard(device: Device, pending: Promise<unknown>, timeoutMs = 30_000): Promise<Recovery> {
  if (device.powerCycle) {
    try {
      await device.powerCycle({ timeoutMs });
      return { recovered: true, how: device.connection === 'qemu' ? 'QEMU restarted' : 'power-cycled' };
    } catch (e) {
      return { recovered: false, how: `power cycle failed: ${(e as Error).message}` };
    } finally {
      await pending.catch(() => undefined);
    }
  }
  // No power control here: the operation in progress ends at its own deadline (or when the link
  // closes); nothing is sent behind it. A cam that resets itself on the fault (stm32's default)
  // is found again by the next operation.
  pending.catch(() => undefined);
  return { recovered: false, how: 'hil cannot power-cycle this board: it is reached again by the next operation if it reset itself, else power-cycle it' };
}
