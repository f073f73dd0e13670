/**
 * startSer2net's config folder is one of hil's temp folders (lifecycle/tempDir.ts): it names its
 * owner, so what a killed process left behind is reclaimed by the next hil. Before, a bare mkdtemp
 * had no owner file and every ser2net of a killed test or bench stayed in /tmp for ever.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSer2net } from '../../harness/transport/rfc2217/ser2net.js';
import { readOwner } from '../../harness/lifecycle/tempDir.js';

const version = spawnSync('ser2net', ['-v'], { encoding: 'utf8' }).status === 0;
if (!version) console.log('ser2net temp-folder test skipped: ser2net is not installed (Debian: apt-get install ser2net)');
const maybe = version ? describe : describe.skip;

const ours = () => new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('hil-ser2net-')));

maybe('startSer2net config folder', () => {
  it('carries an owner file naming this process, and stop() removes it', async () => {
    const before = ours();
    const s = await startSer2net({ device: '/dev/null', mode: 'rfc2217' });
    let dir: string | undefined;
    try {
      const added = [...ours()].filter((n) => !before.has(n));
      expect(added).toHaveLength(1);
      dir = join(tmpdir(), added[0]!);
      expect(readOwner(dir)?.pid).toBe(process.pid);
    } finally {
      await s.stop();
    }
    expect(existsSync(dir!)).toBe(false);
  });
});
