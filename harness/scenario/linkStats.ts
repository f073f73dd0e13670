/**
 * What went over a board's link, read back from a transcript file (the format
 * harness/repl/transcript.ts writes: `TIME DIR BYTES`, bytes escaped as \xNN, \n, \r, \\):
 * bytes sent and received, programs sent, soft reboots, raw REPL entries. These are the
 * load-independent figures of a run (its wall time is not): the run benchmark and the QEMU tests
 * read them.
 */
import { readFileSync } from 'node:fs';

export interface TranscriptLine {
  t: number;
  dir: 'tx' | 'rx' | 'note';
  /** The record's bytes, one char per byte (latin1). */
  text: string;
}

const unescape = (s: string) =>
  s.replace(/\\x([0-9a-f]{2})|\\n|\\r|\\\\/g, (m, h: string | undefined) => (h ? String.fromCharCode(parseInt(h, 16)) : m === '\\n' ? '\n' : m === '\\r' ? '\r' : '\\'));

/** The records of a transcript file, bytes unescaped. */
export function readTranscriptFile(path: string): TranscriptLine[] {
  const out: TranscriptLine[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*([\d.]+) (tx|rx|note)\s{1,3}(.*)$/.exec(line);
    if (m) out.push({ t: Number(m[1]), dir: m[2] as TranscriptLine['dir'], text: unescape(m[3]!) });
  }
  return out;
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
