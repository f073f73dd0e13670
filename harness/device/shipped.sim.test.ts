/**
 * What connecting sends (issue 15): the sealed wrapper and the identity query go out compacted
 * (harness/board/compact.ts): none of their comment lines, one space per block level. The
 * connect still identifies the simulated board (real MicroPython in wasm), so the compacted
 * programs run. Every 128 bytes of a program cost a raw-paste round trip.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDevice } from './index.js';
import type { ReplDevice } from './replDevice.js';
import { boardSource } from '../board/program.js';

describe('programs sent on connect, simulated board', () => {
  let device: ReplDevice;
  beforeAll(async () => {
    device = (await openDevice({ connection: 'sim', profile: 'openmv-h7' })) as ReplDevice;
  }, 60_000);
  afterAll(async () => {
    await device?.close();
  });

  it('carry no comment line of sealed.py or identify.py, and still identify the board', () => {
    const sent = Buffer.concat(device.transcript.records.filter((r) => r.dir === 'tx').map((r) => Buffer.from(r.data))).toString('latin1');
    expect(device.identity).toBeDefined();
    const comments = (name: string) => boardSource(name).split('\n').map((l) => l.trim()).filter((l) => l.startsWith('# ') && l.length > 20);
    expect(comments('device/sealed').length).toBeGreaterThan(3);
    expect(comments('device/identify').length).toBeGreaterThan(3);
    const shipped = ['device/sealed', 'device/sealed_define', 'device/sealed_call', 'device/identify'];
    for (const c of shipped.flatMap(comments)) expect(sent).not.toContain(c.slice(0, 40));
    // Four-space indentation is gone from the wrapper (its body is indented in the file; it
    // travels as a bytes parameter, its line ends escaped once).
    expect(sent).toContain('def _hil_sealed(sm):\\n def run():\\n  g = globals()');
    expect(sent).toContain("globals().get('_hil_w' + _P['h'], lambda: print(");
  });
});
