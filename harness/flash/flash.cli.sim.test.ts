/**
 * `hil flash` as a user runs it (bin/hil.js spawned, which runs dist/: `npm run build` first)
 * against simulated boards: `--json` says which strategy and why, `--segment` addresses a segment
 * by number, `--strategy dfu` on the RT1062 is exit 5 with the reason.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { defaultHil, runHil } from '../fault/spawnHil.js';
import { romfsOfLength } from './testImage.js';

const dir = mkdtempSync(join(tmpdir(), 'hil-flash-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hil = (args: string[]) => runHil(defaultHil(), args, new AbortController().signal);
const image = (n: number, seed: number) => {
  const p = join(dir, `img${n}-${seed}.img`);
  writeFileSync(p, romfsOfLength(n, seed));
  return p;
};

describe('hil flash CLI', () => {
  it('--json reports the strategy auto chose and why (released H7: rom-ioctl, whole-range erase only)', async () => {
    const p = await hil(['flash', image(5000, 1), '--device', 'sim', '--profile', 'openmv-h7', '--json']);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    const r = JSON.parse(p.stdout) as { strategy: string; strategyChoice: { how: string; why: string; skipped: unknown[] }; partition: number };
    expect(r.strategy).toBe('rom-ioctl');
    expect(r.strategyChoice).toMatchObject({ how: 'auto', skipped: [] });
    expect(r.strategyChoice.why).toMatch(/rom_ioctl\(3, 0, 0\) = 16 .*rom_ioctl\(6, 0\) = -22/);
  });

  it('the RT1062 goes through its block device; --strategy dfu there is exit 5 naming the NXP loader', async () => {
    const ok = await hil(['flash', image(5000, 2), '--device', 'sim', '--profile', 'openmv-rt1062', '--json']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ strategy: 'blockdev', strategyChoice: { how: 'auto' } });
    const dfu = await hil(['flash', image(5000, 3), '--device', 'sim', '--profile', 'openmv-rt1062', '--strategy', 'dfu']);
    expect(dfu.code).toBe(5);
    expect(dfu.stdout).toBe('');
    expect(dfu.stderr.trim().split('\n')).toHaveLength(1);
    expect(dfu.stderr).toMatch(/strategy dfu cannot be used: .*NXP's ROM loader/);
  });

  it('--segment 1 flashes the AE3 MRAM segment', async () => {
    const p = await hil(['flash', image(3000, 4), '--device', 'sim', '--profile', 'openmv-ae3', '--segment', '1']);
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/to segment 1 with rom-ioctl \(auto\)/);
    const bad = await hil(['flash', image(3000, 5), '--device', 'sim', '--profile', 'openmv-ae3', '--segment', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/has no segment 2/);
  });
});
