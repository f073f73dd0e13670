/**
 * The fault matrix for `hil run scenarios/model-load`: the real CLI, spawned as a user would run
 * it (`hil run SCENARIO --device socket://PROXY --profile P --json FILE`), against the simulated
 * board behind the fault-injecting link. Repeats alternate two inputs so a fault can be caught
 * turning a verdict either way:
 * - the scenario's own image (images/demo, well aligned): the right verdict is exit 0, and the
 *   sim's partition must then hold exactly that image;
 * - demo.mpremote.img (model data at offset 482, misaligned): the right verdict is exit 1 with
 *   `models.placement` the only failing check; exit 0 is a FALSE PASS.
 * Exit 1 for the good image, or other checks failing, is a WRONG VERDICT (a cable fault reported
 * as a product fault). Exit 3 must name the phase in the JSON report. A report claiming a board
 * sha256 the partition file does not have is a FALSE PASS whatever the exit code.
 */
import { sha256Hex } from '../sha256.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfile } from '../profile/profile.js';
import { loadScenario } from '../scenario/loadScenario.js';
import { resolveImage } from '../scenario/resolveImage.js';
import type { RunResult } from '../scenario/result.js';
import { defaultHil, repoRoot, runHil } from './spawnHil.js';
import { runMatrix, type MatrixCell, type MatrixOptions, type MatrixPhase, type RunOutcome, type TrialVerdict } from './matrix.js';

/** Where each fault lands in a `hil run`, as a trigger on the wire. */
export function runPhases(): MatrixPhase[] {
  return [
    { name: 'connect', when: { kind: 'bytes', dir: 'toBoard', at: 0 } },
    { name: 'raw-REPL entry', when: { kind: 'pattern', dir: 'toBoard', pattern: '\x01' } },
    // Inside the board's answer to the listing check (its first directory entry, `[name, -1, null,
    // null]`, then 40 bytes on: names, sizes and on-board hashes), the answer a verdict is made from.
    { name: 'mid-exec', when: { kind: 'pattern', dir: 'toHost', pattern: '-1, null, null]', nth: 1, after: 40 } },
    // The 3rd frame header of the image transfer (`HB`, then the frame's length: 8 KiB frames,
    // so a zero byte no program's text holds, packed in base64 or not).
    { name: 'mid-transfer', when: { kind: 'pattern', dir: 'toBoard', pattern: 'HB\x00', nth: 3 } },
    // The flash's proof: the program hashing the partition on the board (harness/board/flash/verify.py),
    // found by the phase its sealed parameters name (the code itself goes packed: device/sealed.ts).
    { name: 'verification', when: { kind: 'pattern', dir: 'toBoard', pattern: '"p":"verification"', nth: 1 } },
    { name: 'reset', when: { kind: 'pattern', dir: 'toHost', pattern: 'soft reboot' } },
    // The same fault on every connection, retries included: hil cannot get past it and must end
    // with exit 3 naming the phase (or pass, where the action is survivable, e.g. a stall).
    { name: 'mid-transfer, every connection', when: { kind: 'pattern', dir: 'toBoard', pattern: 'HB\x00', nth: 3 }, everyConnection: true },
  ];
}

export interface RunMatrixOptions extends MatrixOptions {
  /** Scenario folder (default: the repository's scenarios/model-load). */
  scenario?: string;
  /** The misaligned image for the odd repeats (default test/fixtures/romfs/demo.mpremote.img). */
  badImage?: string;
}

/** Every phase an infrastructure error was attributed to in the report. */
function errorPhases(r: RunResult): string[] {
  const out: string[] = [];
  for (const d of r.devices) {
    if (d.error) out.push(d.error.phase ?? '');
    for (const s of d.scenarios) {
      if (s.error) out.push(s.error.phase ?? '');
      for (const c of s.checks) {
        if (c.status !== 'error' || c.reason?.startsWith('not attempted')) continue;
        out.push(String((c.data as { phase?: string } | undefined)?.phase ?? ''));
      }
    }
  }
  return out;
}

export async function runRunMatrix(opts: RunMatrixOptions): Promise<{ cells: MatrixCell[]; outcomes: RunOutcome[] }> {
  const root = repoRoot();
  const profileName = opts.profile ?? 'openmv-h7';
  const profile = loadProfile(profileName);
  const scenarioDir = opts.scenario ?? join(root, 'scenarios', 'model-load');
  const def = loadScenario(scenarioDir);
  // The image the scenario builds, built here too (the build is deterministic), so the board can
  // be judged without trusting the run's report.
  const good = await resolveImage(def.image, profile);
  const badPath = opts.badImage ?? join(root, 'test', 'fixtures', 'romfs', 'demo.mpremote.img');
  const bad = new Uint8Array(readFileSync(badPath));
  const hil = opts.hil ?? defaultHil();
  const work = mkdtempSync(join(tmpdir(), 'hil-run-matrix-'));
  try {
    return await runMatrix({
      profile,
      phases: runPhases().filter((p) => !opts.phases || opts.phases.includes(p.name)),
      repeats: opts.repeats,
      seed: opts.seed,
      watchdogMs: opts.watchdogMs,
      log: opts.log,
      link: opts.link,
      trial: async ({ connection, romfsFile, repeat, signal }): Promise<TrialVerdict> => {
        const misaligned = repeat % 2 === 1;
        const variant = misaligned ? 'misaligned image' : 'good image';
        const image = misaligned ? bad : good.bytes;
        const json = join(work, `run-${repeat}-${Date.now()}.json`);
        const args = ['run', scenarioDir, '--device', connection, '--profile', profileName, '--json', json, '--lease-wait', '5', '--quiet'];
        if (misaligned) args.push('--image', badPath);
        const p = await runHil(hil, args, signal);
        if (p.signal) return { variant, result: 'hang', message: `killed (${p.signal})` };
        const lastLine = p.stderr.trim().split('\n').pop() ?? '';
        let report: RunResult | undefined;
        try {
          report = JSON.parse(readFileSync(json, 'utf8')) as RunResult;
        } catch {
          report = undefined;
        }
        const partition = sha256Hex(readFileSync(romfsFile).subarray(0, image.length));
        const holds = partition === sha256Hex(image);
        // "Hash, not hope": any board hash the report claims must be what the partition holds.
        for (const d of report?.devices ?? []) {
          for (const s of d.scenarios) {
            const claimed = s.flash?.verifiedSha256;
            if (claimed && (claimed !== sha256Hex(image) || !holds)) {
              return { variant, result: 'false-pass', message: `report claims board sha256 ${claimed.slice(0, 12)}…; the partition holds ${partition.slice(0, 12)}…` };
            }
          }
        }
        const checks = (report?.devices ?? []).flatMap((d) => d.scenarios.flatMap((s) => s.checks));
        const failed = checks.filter((c) => c.status === 'failed').map((c) => c.name);
        if (p.code === 0) {
          if (misaligned) return { variant, result: 'false-pass', message: 'exit 0 for a misaligned image' };
          if (!holds) return { variant, result: 'false-pass', message: `exit 0 but the partition does not hold the image (sha256 ${partition.slice(0, 12)}…)` };
          return { variant, result: 'passed' };
        }
        if (p.code === 1) {
          // The misaligned model FAILs placement, and loading it crashes the board (issue 14: a
          // model not 4-byte aligned with per-channel convolutions HardFaults; stm32 then resets), the inference's FAIL.
          const why = checks.find((c) => c.name === 'models.inference')?.reason ?? '';
          const crashed = why.startsWith('loading model.tflite crashed the board') || why === 'loading model.tflite reset the board';
          if (misaligned && failed[0] === 'models.placement' && (failed.length === 1 || (failed.length === 2 && failed[1] === 'models.inference' && crashed))) return { variant, result: 'passed' };
          return { variant, result: 'wrong-verdict', message: `exit 1, failed: ${failed.join(', ') || '(none in the report)'}; ${lastLine}` };
        }
        if (p.code === 3) {
          const phases = report ? errorPhases(report) : [];
          if (phases.length === 0 || phases.some((x) => !x)) return { variant, result: 'other-error', message: `exit 3 without a phase: ${lastLine}` };
          return { variant, result: 'infra', errorPhase: [...new Set(phases)].join(','), message: lastLine };
        }
        return { variant, result: 'other-error', message: `exit ${p.code}: ${lastLine}` };
      },
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
