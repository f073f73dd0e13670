/**
 * Jest setup (every test file): `hil run` records into the history under $XDG_STATE_HOME by
 * default, so each test file gets its own state folder, removed when the file ends. The tests
 * then never write into the user's own history (~/.local/state/hil), never share one SQLite file
 * between parallel files, and leave nothing behind. A test that wants another place sets it.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from '@jest/globals';

// Named, not made: hil makes it when it first records. A file whose tests are all skipped runs
// no afterAll, so a folder made here would be left behind by it.
const dir = join(tmpdir(), `hil-test-state-${randomBytes(6).toString('hex')}`);
const before = process.env.XDG_STATE_HOME;
process.env.XDG_STATE_HOME = dir;
afterAll(() => {
  if (before === undefined) delete process.env.XDG_STATE_HOME;
  else process.env.XDG_STATE_HOME = before;
  rmSync(dir, { recursive: true, force: true });
});
