/**
 * The README's Reports section runs as written: its `sh` commands in order (bin/hil.js; build
 * first; `/tmp/` replaced by a folder of this test's own, so runs in parallel do not share files),
 * and its systemd units pass `systemd-analyze verify` (skipped, with the reason, without systemd).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from '@jest/globals';
import { repoRoot } from '../fault/spawnHil.js';

const root = repoRoot();
const T = mkdtempSync(join(tmpdir(), 'hil-report-readme-'));
afterAll(() => rmSync(T, { recursive: true, force: true }));
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### Reports ('), readme.indexOf('\n### ', readme.indexOf('### Reports (') + 5));
const block = (lang: string) => [...section.matchAll(new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```', 'gm'))].map((m) => m[1]!);
const noSystemd = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status !== 0;
if (noSystemd) process.stdout.write('SKIP systemd-analyze not found: the README nightly units are not verified here\n');

describe('README: Reports', () => {
  it('has its examples', () => {
    expect(block('sh')).toHaveLength(1);
    expect(block('ini')).toHaveLength(1);
  });

  it('runs the sh examples in order: a run that records and refreshes the report, then hil report', () => {
    const lines = block('sh')[0]!.trim().split('\n');
    for (const line of lines) {
      // The examples use no quotes: words are split on spaces, a comment starts at ' #'.
      const [cmd, comment = ''] = line.replaceAll('/tmp/', `${T}/`).split(' #');
      const words = cmd!.trim().split(/\s+/);
      expect(words[0]).toBe('hil');
      const r = spawnSync(process.execPath, ['bin/hil.js', ...words.slice(1)], { cwd: root, encoding: 'utf8', timeout: 240_000, env: { ...process.env, NO_COLOR: '1', HIL_HISTORY: '' } });
      const exit = /exit (\d)/.exec(comment);
      expect({ line, status: r.status, stderr: r.status === (exit ? Number(exit[1]) : 0) ? '' : r.stderr }).toEqual({ line, status: exit ? Number(exit[1]) : 0, stderr: '' });
    }
    const html = readFileSync(join(T, 'hil-report', 'index.html'), 'utf8');
    expect(html).toContain('data-device="sim"');
    expect(existsSync(join(T, 'hil-report', 'run.ctrf.json'))).toBe(true);
  }, 300_000);

  (noSystemd ? it.skip : it)('has systemd units that systemd-analyze verifies', () => {
    const units = block('ini')[0]!.split(/^# (\/etc\/systemd\/system\/\S+)\n/m);
    const files: string[] = [];
    for (let i = 1; i < units.length; i += 2) {
      const f = join(T, units[i]!.split('/').pop()!);
      writeFileSync(f, units[i + 1]!);
      files.push(f);
    }
    expect(files.map((f) => f.split('/').pop())).toEqual(['hil-nightly.service', 'hil-nightly.timer']);
    const r = spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
    expect([r.status, r.stderr.trim()]).toEqual([0, '']);
  });
});
