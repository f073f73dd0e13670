/**
 * The raw-REPL entry's sync program (harness/board/device/entry_sync.py, sent by RawRepl.sync)
 * run by real MicroPython (the WebAssembly port): it prints what the entry waits for, and its
 * source as sent does not hold that text, so an echo of it cannot be taken for it.
 */
import { describe, expect, it } from '@jest/globals';
import { loadMicroPython } from '@micropython/micropython-webassembly-pyscript';
import { ENTRY_SYNC_PRINTS, entrySyncCode } from './rawRepl.js';

describe('entry sync program', () => {
  it('prints the answer RawRepl.sync waits for, which its code does not hold', async () => {
    const out: string[] = [];
    const mp = await loadMicroPython({ stdout: (s: string | Uint8Array) => void out.push(String(s)), linebuffer: true });
    const code = entrySyncCode();
    mp.runPython(code);
    expect(out.join('\n').trim()).toBe(ENTRY_SYNC_PRINTS);
    expect(code).not.toContain(ENTRY_SYNC_PRINTS);
    expect(code).not.toContain('#'); // compacted: the comments are not sent
  });
});
