/**
 * A bench file naming one profile for many boards reads it once; each board still gets a
 * profile of its own (what one board's run does to its profile object reaches no other board).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { readBenchFile } from './inventory.js';
import { resolveTargets } from './targets.js';
import { loadProfile } from '../profile/profile.js';

const tmp = mkdtempSync(join(tmpdir(), 'hil-inventory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const bench = join(tmp, 'bench.yaml');
writeFileSync(bench, `devices:\n${[0, 1, 2].map((i) => `  cam${i}: { profile: openmv-h7, connection: /dev/ttyTEST${i} }\n`).join('')}  n6: { profile: openmv-n6, connection: /dev/ttyTEST9 }\n`);

describe('readBenchFile with one profile named by many boards', () => {
  it('gives each board the profile as read, in an object of its own', () => {
    const { targets } = readBenchFile(bench);
    const h7 = loadProfile('openmv-h7');
    expect(targets.map((t) => t.profile?.name)).toEqual(['openmv-h7', 'openmv-h7', 'openmv-h7', 'openmv-n6']);
    for (const t of targets.slice(0, 3)) expect(t.profile).toEqual(h7);
    expect(targets[3]!.profile).toEqual(loadProfile('openmv-n6'));
    expect(new Set(targets.map((t) => t.profile)).size).toBe(4);
    targets[0]!.profile!.partition.size = 1;
    expect(targets[1]!.profile!.partition.size).toBe(h7.partition.size);
  });

  it('gives each board its own copy of a --profile that overrides the file', () => {
    const { targets } = resolveTargets({ bench, profile: 'openmv-n6', cwd: tmp });
    expect(targets.map((t) => t.profile?.name)).toEqual(['openmv-n6', 'openmv-n6', 'openmv-n6', 'openmv-n6']);
    expect(new Set(targets.map((t) => t.profile)).size).toBe(4);
  });
});
