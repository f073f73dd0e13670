/**
 * Every board-touching command takes the same lease flags (harness/cli/leaseFlags.ts), checked
 * before any board is touched: a bad --lease-ttl, --lease-wait or an empty --leases is exit 2
 * naming the flag, for hil run, exec, flash, repl and devices alike (bin/hil.js runs dist/:
 * `npm run build` first). The lease behaviour behind the flags is tested against real PostgreSQL
 * in harness/bench/leases/leases.cli.test.ts.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { repoRoot, spawnHil } from '../../test/helpers/hilProcess.js';

const built = existsSync(join(repoRoot, 'dist/harness/cli/leaseFlags.js'));
if (!built) console.log('lease flag CLI tests skipped: run `npm run build` first (they spawn bin/hil.js)');
const maybe = built ? describe : describe.skip;
// Made only when the tests run (a file whose tests all skip runs no afterAll).
let work = '';
beforeAll(() => {
  if (built) work = mkdtempSync(join(tmpdir(), 'hil-lease-flags-test-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

// Nothing listens on port 1: a command that got as far as the board would say so instead.
const board = 'socket://127.0.0.1:1';
const image = join(repoRoot, 'test/fixtures/romfs/demo.mpremote.img');
const commands: [string, string[]][] = [
  ['run', ['run', 'model-load', '--device', board, '--profile', 'openmv-h7', '--no-history']],
  ['exec', ['exec', '--device', board, '--profile', 'openmv-h7', 'print(1)']],
  ['flash', ['flash', image, '--device', board, '--profile', 'openmv-h7']],
  ['repl', ['repl', '--device', board]],
  ['devices', ['devices']],
];
const bad: [string[], string][] = [
  [['--lease-ttl', '0.5'], '--lease-ttl must be a number of seconds >= 1 (got 0.5)'],
  [['--lease-wait', '-1'], '--lease-wait must be a number of seconds >= 0 (got -1)'],
  [['--leases', ' '], '--leases is empty'],
];

maybe('lease flags on every board-touching command', () => {
  for (const [name, args] of commands) {
    for (const [flag, message] of bad) {
      it(`hil ${name} ${flag.join(' ')}: exit 2 naming the flag`, async () => {
        const h = spawnHil([...args, ...flag], { cwd: work, env: { ...process.env, NO_COLOR: '1', HIL_LOCK_DIR: join(work, 'locks') } });
        const e = await h.exit;
        expect({ code: e.code, err: h.err() }).toEqual({ code: 2, err: expect.stringContaining(message) });
        expect(h.err()).not.toMatch(/connection refused|127\.0\.0\.1:1\b/);
      });
    }
  }
});
