/**
 * Fault matrices, smoke size (the full matrices are `npm run bench -- faults`):
 * - `hil flash` through the fault proxy against the simulated board with one fault in each of a
 *   few phases. Never a false pass (the sim's partition file is hashed independently), never a
 *   hang (outer watchdog), and every failure is a classified infrastructure error (exit 3).
 *   Corruption in code or frames sent to the board is a link fault (retried, or exit 3), never a
 *   board exception (this test found that; fixed in the device layer).
 * - `hil run scenarios/model-load` (the CLI, spawned) with the listing check's answer corrupted on
 *   its way back, for the good and the misaligned image: the verdict must still be the true one
 *   (the run matrix found a corrupted hash reported as "file differs"; answers are now sealed).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runFlashMatrix } from '../../harness/fault/flashMatrix.js';
import { runRunMatrix } from '../../harness/fault/runMatrix.js';

const built = existsSync(join(process.cwd(), 'dist/harness/sim/index.js'));
if (!built) console.log('fault matrix smoke skipped: run `npm run build` first (the sim and the CLI run from dist/)');
const maybe = built ? test : test.skip;

maybe('hil flash: drops and corruption in connect, mid-transfer and verification: no false pass, no hang, failures are exit 3', async () => {
  const { outcomes } = await runFlashMatrix({
    image: join(process.cwd(), 'test/fixtures/romfs/micropython-random.img'),
    repeats: 1,
    seed: 3,
    watchdogMs: 60_000,
    phases: ['connect', 'mid-transfer', 'verification'],
  });
  expect(outcomes).toHaveLength(3);
  expect(outcomes.filter((o) => o.result === 'false-pass' || o.result === 'hang')).toEqual([]);
  expect(outcomes.filter((o) => o.result === 'other-error').map((o) => `${o.phase}/${o.action}: ${o.message}`)).toEqual([]);
}, 200_000);

maybe('hil run: every action on the listing answer, good and misaligned image: the true verdict or exit 3 with a phase', async () => {
  const { outcomes } = await runRunMatrix({ repeats: 5, seed: 11, watchdogMs: 60_000, phases: ['mid-exec'] });
  expect(outcomes).toHaveLength(5);
  // Each fault really hit the run (a run whose fault never fired would prove nothing).
  expect(outcomes.filter((o) => !o.fired)).toEqual([]);
  expect(outcomes.map((o) => o.variant)).toEqual(['good image', 'misaligned image', 'good image', 'misaligned image', 'good image']);
  const bad = outcomes.filter((o) => o.result !== 'passed' && o.result !== 'infra');
  expect(bad.map((o) => `${o.action} (${o.variant}): ${o.result} ${o.message ?? ''}`)).toEqual([]);
  expect(outcomes.filter((o) => o.result === 'infra' && !o.errorPhase)).toEqual([]);
}, 400_000);
