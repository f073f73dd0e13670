/** The fault watch of the inference check reads the console as it arrives: each record once, the same text consoleSince gives, and the fault once its dump is whole (fake clock: no timed assertions). */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { LinkTranscript } from '../../repl/transcript.js';
import { ConsoleReader, consoleSince, markConsole, watchForFault } from './crash.js';

/** A transcript whose records count how often their bytes are read. */
function countingTranscript(maxBytes?: number): { t: LinkTranscript; add: (dir: 'rx' | 'tx', s: string) => void; reads: () => number } {
  const t = new LinkTranscript(maxBytes);
  let reads = 0;
  const add = (dir: 'rx' | 'tx', s: string) => {
    t.add(dir, Buffer.from(s, 'latin1'));
    const r = t.records[t.records.length - 1]!;
    const data = r.data;
    Object.defineProperty(r, 'data', { get: () => (reads++, data) });
  };
  return { t, add, reads: () => reads };
}

describe('ConsoleReader', () => {
  it('gives what consoleSince gives after every arrival, reading each record once', () => {
    const { t, add, reads } = countingTranscript();
    add('rx', 'before the mark\r\n');
    const mark = markConsole(t);
    const reader = new ConsoleReader(t, mark);
    expect(reader.read()).toBe('');
    for (let i = 0; i < 50; i++) {
      add('tx', `code ${i}\n`);
      add('rx', `line ${i}\r\n`);
      const before = reads();
      expect(reader.read()).toBe(`${Array.from({ length: i + 1 }, (_, k) => `line ${k}\r\n`).join('')}`);
      expect(reads() - before).toBe(1);
      expect(reader.read()).toBe(consoleSince(t, mark));
    }
  });

  it('reads from the start of an empty transcript, and what is left of one whose records were dropped', () => {
    const { t, add } = countingTranscript(64);
    const reader = new ConsoleReader(t, markConsole(t));
    add('rx', 'a'.repeat(30));
    expect(reader.read()).toBe('a'.repeat(30));
    const mark = markConsole(t);
    const late = new ConsoleReader(t, mark);
    add('rx', 'b'.repeat(30));
    expect(late.read()).toBe('b'.repeat(30));
    // Past 64 bytes the oldest records go, the last one read among them: what is left is read.
    add('rx', 'c'.repeat(40));
    add('rx', 'd'.repeat(40));
    expect(late.read()).toBe(consoleSince(t, mark));
  });
});

describe('watchForFault', () => {
  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('resolves with the dump once the board has been quiet after the banner, not before', async () => {
    const { t, add } = countingTranscript();
    const w = watchForFault(t, markConsole(t), 300, 3000, 50);
    let fault: unknown;
    void w.fault.then((f) => (fault = f));
    add('rx', 'hil: loading m.tflite\r\n');
    await jest.advanceTimersByTimeAsync(500);
    expect(fault).toBeUndefined();
    add('rx', 'HardFault exception caught:\r\n');
    await jest.advanceTimersByTimeAsync(200);
    add('rx', 'R0: 1\r\n');
    await jest.advanceTimersByTimeAsync(200);
    expect(fault).toBeUndefined();
    await jest.advanceTimersByTimeAsync(200);
    expect(fault).toMatchObject({ kind: 'fault', banner: 'HardFault exception caught:', text: ['HardFault exception caught:', 'R0: 1'], stage: { what: 'loading', path: 'm.tflite' } });
    w.stop();
  });
});
