/**
 * The `hil run` console a person reads (issue 12), bin/hil.js spawned (build first) on a simulated
 * board holding a misaligned model (placement FAILs, and loading it crashes the simulated cam as
 * it crashes a real one: a second FAIL): `-q` prints only the errors and the summary line;
 * on a terminal (script(1)) each check line is printed once, not streamed and then repeated.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../fault/spawnHil.js';

const root = repoRoot();
const args = ['run', 'model-load', '--device', 'sim', '--image', 'test/fixtures/romfs/demo.mpremote.img'];
const noScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status !== 0;
if (noScript) console.log('harness/cli/quiet.cli.test: terminal case skipped: script(1) from util-linux is not installed');

describe('hil run output', () => {
  it('-q: the failed check and the summary line, nothing else', () => {
    const r = spawnSync(process.execPath, ['bin/hil.js', ...args, '-q'], { cwd: root, encoding: 'utf8', timeout: 240_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^sim model-load: FAIL models\.placement .*not 16-byte aligned/);
    expect(lines[1]).toMatch(/^sim model-load: FAIL models\.inference .*loading model\.tflite reset the board/);
    expect(lines[2]).toMatch(/^1 device: 2 passed, 2 failed, 0 skipped, 0 simulated in .* \(exit 1\)$/);
  }, 300_000);
  (noScript ? it.skip : it)('on a terminal each check line (and its FAIL reason) appears once', () => {
    const cmd = ['node', 'bin/hil.js', ...args].join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: root, encoding: 'utf8', timeout: 240_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(1);
    const count = (re: RegExp) => (r.stdout.match(re) ?? []).length;
    expect({ listing: count(/PASS listing/g), fail: count(/FAIL models\.placement/g), reason: count(/not 16-byte aligned/g), summary: count(/1 device: /g) }).toEqual({ listing: 1, fail: 1, reason: 1, summary: 1 });
    expect(r.stdout).not.toMatch(/\/tmp\/hil-sim|\/dev\/pts/);
  }, 300_000);
});
