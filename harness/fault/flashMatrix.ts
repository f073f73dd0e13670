/**
 * The fault matrix for `hil flash`: the CLI, spawned as a user runs it
 * (`hil flash IMAGE --device socket://PROXY --profile P --force --json`), against the simulated
 * board behind the fault-injecting link. A run passes only if the sim's partition file, hashed
 * here, holds the image; exit 0 when it does not, or a reported board sha256 that is not the
 * image's, is a FALSE PASS. Exit 3 must name its phase (`[phase: P]` ending the error line).
 */
import { sha256Hex } from '../sha256.js';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadProfile } from '../profile/profile.js';
import { runMatrix, type MatrixCell, type MatrixOptions, type MatrixPhase, type RunOutcome, type TrialVerdict } from './matrix.js';
import { defaultHil, phaseOfErrorLine, runHil } from './spawnHil.js';

/** Where each fault lands in a flash, as a trigger on the wire. */
export function flashPhases(imageBytes: number): MatrixPhase[] {
  const midTransfer = { kind: 'bytes', dir: 'toBoard', at: 6000 + Math.floor(imageBytes / 2) } as const;
  return [
    { name: 'connect', when: { kind: 'bytes', dir: 'toBoard', at: 0 } },
    { name: 'raw-REPL entry', when: { kind: 'pattern', dir: 'toBoard', pattern: '\x01' } },
    // Inside the board's second sealed answer (its frame, device/sealed.ts): the sim speaks
    // raw-paste now, which answers without the OK this trigger once counted.
    { name: 'mid-exec', when: { kind: 'pattern', dir: 'toHost', pattern: '@@hil ', nth: 2, after: 12 } },
    { name: 'mid-transfer', when: midTransfer },
    // The proof's program, found by the phase its sealed parameters name (its code goes packed: device/sealed.ts).
    { name: 'verification', when: { kind: 'pattern', dir: 'toBoard', pattern: '"p":"verification"', nth: 1 } },
    { name: 'reset', when: { kind: 'pattern', dir: 'toHost', pattern: 'soft reboot' } },
    // The same fault on every connection, retries included: hil cannot get past it and must end
    // with exit 3 naming the phase (or pass, where the action is survivable, e.g. a stall).
    { name: 'mid-transfer, every connection', when: midTransfer, everyConnection: true },
  ];
}

export interface FlashMatrixOptions extends MatrixOptions {
  image: string;
}

export function runFlashMatrix(opts: FlashMatrixOptions): Promise<{ cells: MatrixCell[]; outcomes: RunOutcome[] }> {
  const profileName = opts.profile ?? 'openmv-h7';
  const profile = loadProfile(profileName);
  const imagePath = resolve(opts.image);
  const image = new Uint8Array(readFileSync(imagePath));
  const want = sha256Hex(image);
  const hil = opts.hil ?? defaultHil();
  return runMatrix({
    profile,
    phases: flashPhases(image.length).filter((p) => !opts.phases || opts.phases.includes(p.name)),
    repeats: opts.repeats,
    seed: opts.seed,
    watchdogMs: opts.watchdogMs,
    log: opts.log,
    link: opts.link,
    trial: async ({ connection, romfsFile, signal }): Promise<TrialVerdict> => {
      const p = await runHil(hil, ['flash', imagePath, '--device', connection, '--profile', profileName, '--force', '--json'], signal);
      if (p.signal) return { result: 'hang', message: `killed (${p.signal})` };
      const lastLine = p.stderr.trim().split('\n').pop() ?? '';
      const got = sha256Hex(readFileSync(romfsFile).subarray(0, image.length));
      if (p.code === 0) {
        let claimed: string | undefined;
        try {
          claimed = (JSON.parse(p.stdout.trim().split('\n').pop() ?? '') as { verifiedSha256?: string }).verifiedSha256;
        } catch {
          claimed = undefined;
        }
        if (got !== want) return { result: 'false-pass', message: `exit 0; partition sha256 ${got.slice(0, 16)}… is not the image's` };
        if (claimed !== want) return { result: 'false-pass', message: `exit 0 claiming board sha256 ${String(claimed).slice(0, 16)}…` };
        return { result: 'passed' };
      }
      if (p.code === 3) {
        const phase = phaseOfErrorLine(p.stderr);
        return phase ? { result: 'infra', errorPhase: phase, message: lastLine } : { result: 'other-error', message: `exit 3 without a phase: ${lastLine}` };
      }
      return { result: 'other-error', message: `exit ${p.code}: ${lastLine}` };
    },
  });
}
