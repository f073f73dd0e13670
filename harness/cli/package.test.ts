/**
 * What `npm pack` ships (package.json `files`) is what runs (issue 12): the tarball is unpacked as
 * an installed package would be (node_modules/hil, its dependencies beside it), and hil runs from
 * there, finding its board programs, profiles and scenarios in the package (harness/checkout.ts
 * finds the package root by its package.json name). Tests and fixtures are not shipped.
 * Needs `npm run build` first (dist/ is packed as built).
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../fault/spawnHil.js';

const root = repoRoot();

describe('the npm package', () => {
  it('holds dist, bin, devices, scenarios, images and the board programs, no tests or fixtures, and runs a scenario on the simulated board from an install', () => {
    const T = mkdtempSync(join(tmpdir(), 'hil-pack-'));
    try {
      execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', T], { cwd: root, stdio: 'ignore' });
      const tgz = readdirSync(T).find((f) => f.endsWith('.tgz'))!;
      const pkg = join(T, 'app', 'node_modules', 'hil');
      mkdirSync(pkg, { recursive: true });
      execFileSync('tar', ['-xzf', join(T, tgz), '-C', pkg, '--strip-components=1']);
      const files = execFileSync('tar', ['-tzf', join(T, tgz)], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
      for (const need of ['bin/hil.js', 'dist/harness/cli/main.js', 'dist/harness/index.js', 'devices/profiles/openmv-h7.yaml', 'scenarios/model-load/scenario.yaml', 'images/demo/model.tflite', 'harness/board/device/sealed.py', 'README.md', 'LICENSE', 'scenarios/custom-check/config-on-board.ts', 'scenarios/custom-check/board/read_json.py']) expect(files).toContain(need);
      expect(files.filter((f) => /(^|\/)test\/|\.test\.|fixtures\//.test(f) || f.startsWith('harness/') && !f.endsWith('.py'))).toEqual([]);
      // Dependencies as an install puts them: beside the package (the repo's, linked).
      for (const dep of readdirSync(join(root, 'node_modules'))) symlinkSync(join(root, 'node_modules', dep), join(T, 'app', 'node_modules', dep));
      const r = spawnSync(process.execPath, [join(pkg, 'bin/hil.js'), 'run', 'model-load', '--device', 'sim', '--quiet'], { cwd: join(T, 'app'), encoding: 'utf8', timeout: 240_000, env: { ...process.env, NO_COLOR: '1' } });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toMatch(/0 failed/);
    } finally {
      rmSync(T, { recursive: true, force: true });
    }
  }, 300_000);
});
