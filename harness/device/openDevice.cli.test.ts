/**
 * Connecting to a board whose profile is given reads that profile only (issue 15, bench CPU):
 * every other profile YAML is parsed only without a profile, or for the error naming the
 * profiles a contradicted board matches. Parsing all of them was most of a connect's host CPU
 * on a bench of 16 boards. bin/hil.js spawned (build first) with a helper listing the profile
 * files the process read (test/startup/readProfiles.mjs); the simulated board runs in its own
 * processes, which are not counted.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { repoRoot } from '../fault/spawnHil.js';

const root = repoRoot();

function run(args: string[]): { status: number | null; stderr: string; profiles: string[] } {
  const r = spawnSync(process.execPath, ['--import', './test/startup/readProfiles.mjs', 'bin/hil.js', ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  const profiles = r.stderr.split('\n').filter((l) => l.startsWith('HIL_PROFILE_READ ')).map((l) => l.slice('HIL_PROFILE_READ '.length).split('/').pop()!);
  return { status: r.status, stderr: r.stderr, profiles: [...new Set(profiles)].sort() };
}

describe('profiles read on connect', () => {
  it('a board its given profile fits: that profile only', () => {
    const r = run(['exec', 'print(1)', '--device', 'sim:openmv-h7', '--profile', 'openmv-h7']);
    expect(r.status).toBe(0);
    expect(r.profiles).toEqual(['openmv-h7.yaml']);
  }, 120_000);

  it('a board its given profile does not fit: all, to name the one it matches', () => {
    const r = run(['exec', 'print(1)', '--device', 'sim:openmv-h7', '--profile', 'openmv-rt1062']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/profile openmv-rt1062 does not fit this board: .*the board matches openmv-h7; nothing was written/);
    expect(r.profiles.length).toBeGreaterThan(5);
  }, 120_000);
});
