/**
 * What went over a board's link, read back from a transcript file (the format
 * harness/repl/transcript.ts writes: `TIME DIR BYTES`, bytes escaped as \xNN, \n, \r, \\):
 * bytes sent and received, programs sent, soft reboots, raw REPL entries. These are the
 * load-independent figures of a run (its wall time is not): the run benchmark and the QEMU tests
 * read them.
 */
import { readFileSync } from 'node:fs';
import { parseTranscript, type TranscriptLine } from '../repl/transcript.js';

export type { TranscriptLine };

/** The records of a transcript file (the format is transcript.ts's: it writes and reads it). */
export function readTranscriptFile(path: string): TranscriptLine[] {
  return parseTranscript(readFileSync(path, 'utf8'));
}

export interface LinkStats {
  txBytes: number;
  rxBytes: number;
  /** Programs the board ran to their end (each exec ends with stdout \x04 stderr \x04 and the `>` prompt). */
  programs: number;
  /**
   * Raw-paste window grants (\x01) the board sent: each is a wait of the host for the board
   * within a program's send (the first window's grant comes with the raw-paste answer).
   */
  windowGrants: number;
  /** `soft reboot` banners the board printed. */
  softReboots: number;
  /** Interrupts sent (Ctrl-C): each raw REPL entry starts with one. */
  interrupts: number;
}

export function linkStats(records: readonly TranscriptLine[]): LinkStats {
  const tx = records.filter((r) => r.dir === 'tx');
  const rx = records.filter((r) => r.dir === 'rx').map((r) => r.text).join('');
  const sent = tx.map((r) => r.text).join('');
  return {
    txBytes: sent.length,
    rxBytes: rx.length,
    programs: rx.split('\x04>').length - 1,
    windowGrants: records.filter((r) => r.dir === 'rx' && /^\x01+$/.test(r.text)).reduce((n, r) => n + r.text.length, 0),
    softReboots: rx.split('soft reboot').length - 1,
    interrupts: sent.split('\x03').length - 1,
  };
}
