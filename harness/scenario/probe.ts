/**
 * Board-side probes: each check sends board programs from `harness/board/scenario/*.py` (loaded
 * with boardProgram, parameters as JSON) that do all their work on the board (walk, hash, import,
 * open) and answer with one sealed JSON line (device/sealed.ts). Output printed by the code under
 * test (module top level, entry points) may come before it and is kept.
 */
import type { Device } from '../device/types.js';
import { querySealed, type SealedAnswer } from '../device/sealed.js';
import { compactBoardProgram, type BoardParams } from '../board/program.js';

export type ProbeOutput<T> = SealedAnswer<T>;

/**
 * The scenario board program `name` (harness/board/scenario/NAME.py) with `params`, compacted
 * (harness/board/compact.ts: no comments or blank lines, one space per block level). On a board
 * every byte of a program is read through the UART (raw-paste acknowledges each 128), so the
 * comments of the .py files cost most of a check's time on QEMU.
 */
export function scenarioProgram(name: string, params: BoardParams): string {
  return compactBoardProgram(`scenario/${name}`, params);
}

export interface ProbeOptions {
  /**
   * The program runs only reads (listing, placement, inference): a damaged answer is asked for
   * once more. A program that runs the application's code (imports, entry points) is not: its
   * side effects must not happen twice.
   */
  rereadable: boolean;
}

/**
 * Run a probe as a sealed query (request and answer checksummed: a byte damaged on the link is an
 * infrastructure error, never a wrong verdict) and return its answer. A probe that crashes before
 * answering is an InfraError naming device and phase.
 */
export function runProbe<T>(device: Device, code: string, phase: string, timeoutMs: number, opts: ProbeOptions = { rereadable: true }): Promise<ProbeOutput<T>> {
  return querySealed<T>(device, code, { phase, timeoutMs, idempotent: opts.rereadable });
}
