/** The transcript's text format read back by the same module that writes it: every byte survives. */
import { describe, expect, it } from '@jest/globals';
import { LinkTranscript, parseTranscript } from './transcript.js';

describe('transcript format', () => {
  it('parseTranscript gives back every record format() wrote, all 256 byte values included', () => {
    const t = new LinkTranscript();
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    t.add('tx', all);
    t.add('rx', Buffer.from('OK\x04\x04>\\n'));
    t.note('soft reset');
    const back = parseTranscript(t.format());
    expect(back.map((r) => r.dir)).toEqual(['tx', 'rx', 'note']);
    expect(back.map((r) => Buffer.from(r.text, 'latin1'))).toEqual(t.records.map((r) => Buffer.from(r.data)));
  });
});
