/**
 * Scenario board programs go out compacted (harness/board/compact.ts): on QEMU every byte of a
 * program is read through the emulated UART, and the comments of listing.py, imports.py and the
 * others were most of what a check sent. That they still run on MicroPython is
 * probes.wasm.test.ts's part (it runs these same builders).
 */
import { describe, expect, it } from '@jest/globals';
import { boardSource } from '../board/program.js';
import { listingProbe } from './checks/listing.js';
import { entryProbe, importsProbe } from './checks/imports.js';
import { placementProbe } from './checks/models.js';
import { inferenceProbe } from './checks/inference.js';

const comments = (name: string) =>
  boardSource(`scenario/${name}`).split('\n').map((l) => l.trim()).filter((l) => l.startsWith('# ') && l.length > 20);

describe('scenario probes as sent', () => {
  const sent: Record<string, string> = {
    listing: listingProbe({ sha256: true }, '/rom'),
    imports: importsProbe(['app'], ['main.py'], '/rom', []),
    entry: entryProbe('app.run'),
    placement: placementProbe(['model.tflite']),
    inference: inferenceProbe('model.tflite', { kind: 'zeros' }, 1),
  };
  for (const [name, program] of Object.entries(sent)) {
    it(`${name}: none of ${name}.py's comment lines, one space per block level`, () => {
      const c = comments(name);
      expect(c.length).toBeGreaterThan(0);
      for (const line of c) expect(program).not.toContain(line);
      // A first-level block body is indented by one space, not the file's four.
      expect(program).toMatch(/\n\S[^\n]*:\n \S/);
      expect(program).not.toMatch(/\n\S[^\n]*:\n {2,}\S/);
    });
  }
});
