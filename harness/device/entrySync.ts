/**
 * The program a retried raw-REPL entry runs to find the end of the stale prompts
 * (harness/repl/rawRepl.ts, RawRepl.sync): the board program device/entry_sync.py, and the start
 * of its answer in plain raw mode, `OK` then what it prints.
 */
import type { SyncProgram } from '../repl/rawRepl.js';
import { compactPython } from '../board/compact.js';
import { boardSource } from '../board/program.js';

/** What device/entry_sync.py prints (harness/board/board.test.ts runs it and checks). */
export const ENTRY_SYNC_PRINTS = 'hil sync';

export function entrySyncProgram(): SyncProgram {
  return { code: compactPython(boardSource('device/entry_sync')).trimEnd(), answer: `OK${ENTRY_SYNC_PRINTS}` };
}
