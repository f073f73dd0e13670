/**
 * The fault matrix for `hil flash` (as the library call flashImage, with its own retries) on the
 * simulated board. A run passes only if the sim's partition file, hashed here, holds the image;
 * hil reporting success when it does not is a FALSE PASS.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HilError } from '../errors.js';
import { loadProfile } from '../profile/profile.js';
import { openDevice } from '../device/index.js';
import { flashImage } from '../flash/index.js';
import { runMatrix, type MatrixCell, type MatrixPhase, type RunOutcome, type TrialVerdict } from './matrix.js';

/** Where each fault lands in a flash, as a trigger on the wire. */
export function flashPhases(imageBytes: number): MatrixPhase[] {
  return [
    { name: 'connect', when: { kind: 'bytes', dir: 'toBoard', at: 0 } },
    { name: 'raw-REPL entry', when: { kind: 'pattern', dir: 'toBoard', pattern: '\x01' } },
    { name: 'mid-exec', when: { kind: 'pattern', dir: 'toHost', pattern: 'OK', nth: 2 } },
    { name: 'mid-transfer', when: { kind: 'bytes', dir: 'toBoard', at: 6000 + Math.floor(imageBytes / 2) } },
    { name: 'verification', when: { kind: 'pattern', dir: 'toBoard', pattern: 'hashlib.sha256', nth: 1 } },
    { name: 'reset', when: { kind: 'pattern', dir: 'toHost', pattern: 'soft reboot' } },
    // The same fault on every connection, retries included: hil cannot get past it and must end
    // with exit 3 naming the phase (or pass, where the action is survivable, e.g. a stall).
    { name: 'mid-transfer, every connection', when: { kind: 'bytes', dir: 'toBoard', at: 6000 + Math.floor(imageBytes / 2) }, everyConnection: true },
  ];
}

export interface FlashMatrixOptions {
  profile?: string;
  image: string;
  repeats: number;
  seed?: number;
  watchdogMs?: number;
  /** hil's own deadline per operation (ms). */
  timeoutMs?: number;
  phases?: string[];
  log?: (line: string) => void;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export function runFlashMatrix(opts: FlashMatrixOptions): Promise<{ cells: MatrixCell[]; outcomes: RunOutcome[] }> {
  const profile = loadProfile(opts.profile ?? 'openmv-h7');
  const image = new Uint8Array(readFileSync(opts.image));
  const want = sha256(image);
  return runMatrix({
    profile,
    phases: flashPhases(image.length).filter((p) => !opts.phases || opts.phases.includes(p.name)),
    repeats: opts.repeats,
    seed: opts.seed,
    watchdogMs: opts.watchdogMs,
    log: opts.log,
    trial: async ({ connection, romfsFile }): Promise<TrialVerdict> => {
      let device;
      try {
        device = await openDevice({ connection, profile, timeoutMs: opts.timeoutMs ?? 10_000 });
        await flashImage(device, { image, imageName: 'matrix.img', force: true, onProgress: false });
        const got = sha256(readFileSync(romfsFile).subarray(0, image.length));
        return got === want ? { result: 'passed' } : { result: 'false-pass', message: `hil reported success; partition sha256 ${got.slice(0, 16)}… is not the image's` };
      } catch (e) {
        const he = e instanceof HilError ? e : undefined;
        const phase = (he as { phase?: string } | undefined)?.phase;
        const message = `${(e as Error)?.name}: ${String((e as Error)?.message ?? e).split('\n')[0]}`;
        if (he?.exitCode === 3) return phase ? { result: 'infra', errorPhase: phase, message } : { result: 'other-error', message: `exit 3 without a phase: ${message}` };
        return { result: 'other-error', message };
      } finally {
        await device?.close().catch(() => undefined);
      }
    },
  });
}
