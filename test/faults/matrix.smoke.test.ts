/**
 * Fault matrix, smoke size (the full matrix is `npm run bench -- faults`): `hil flash` through
 * the fault proxy against the simulated board with one fault in each of a few phases. Never a
 * false pass (the sim's partition file is hashed independently), never a hang (outer watchdog),
 * and every failure is a classified infrastructure error (exit 3).
 * Corruption in code or frames sent to the board is a link fault (retried, or exit 3), never a
 * board exception (this test found that; fixed in the device layer).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runFlashMatrix } from '../../harness/fault/matrix.js';

const built = existsSync(join(process.cwd(), 'dist/harness/sim/index.js'));
if (!built) console.log('fault matrix smoke skipped: run `npm run build` first (the sim runs from dist/)');
const maybe = built ? test : test.skip;

maybe('drops and corruption in connect, mid-transfer and verification: no false pass, no hang, failures are exit 3', async () => {
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
