/** A byte-exact, timestamped record of both directions of one device's link. */
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Transcript, TranscriptRecord } from '../device/types.js';

export class LinkTranscript implements Transcript {
  readonly records: TranscriptRecord[] = [];
  private readonly t0 = performance.now();
  /** Keep at most this many bytes (oldest records dropped) so long soaks stay bounded. */
  constructor(private readonly maxBytes = 8 * 1024 * 1024) {}
  private bytes = 0;

  /** `owned`: nobody changes `data` afterwards, so it is kept as it is (else copied). */
  add(dir: TranscriptRecord['dir'], data: Uint8Array, owned = false): void {
    this.records.push({ t: performance.now() - this.t0, dir, data: owned ? data : new Uint8Array(data) });
    this.bytes += data.length;
    while (this.bytes > this.maxBytes && this.records.length > 1) this.bytes -= this.records.shift()!.data.length;
  }
  note(text: string): void {
    this.add('note', Buffer.from(text, 'utf8'), true);
  }
  /** One line per record: time in ms, direction, bytes escaped (printable ASCII kept, others \xNN). */
  format(): string {
    return this.records.map((r) => `${r.t.toFixed(3).padStart(11)} ${r.dir.padEnd(4)} ${escapeBytes(r.data)}`).join('\n') + '\n';
  }
  async writeTo(path: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, this.format());
  }
}

export function escapeBytes(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x0d) s += '\\r';
    else s += `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** The inverse of escapeBytes: one char per byte (latin1). */
export function unescapeBytes(s: string): string {
  return s.replace(/\\x([0-9a-f]{2})|\\n|\\r|\\\\/g, (m, h: string | undefined) => (h ? String.fromCharCode(parseInt(h, 16)) : m === '\\n' ? '\n' : m === '\\r' ? '\r' : '\\'));
}

/** One record of a transcript read back from `format()`'s text. */
export interface TranscriptLine {
  t: number;
  dir: TranscriptRecord['dir'];
  /** The record's bytes, one char per byte (latin1). */
  text: string;
}

/** The records of a transcript as `format()` wrote it, bytes unescaped. */
export function parseTranscript(text: string): TranscriptLine[] {
  const out: TranscriptLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*([\d.]+) (tx|rx|note)\s{1,3}(.*)$/.exec(line);
    if (m) out.push({ t: Number(m[1]), dir: m[2] as TranscriptLine['dir'], text: unescapeBytes(m[3]!) });
  }
  return out;
}
